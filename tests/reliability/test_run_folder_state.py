"""A results folder under --force, --resume, two writers and signals (issue 12, items 2, 3, 6 and 9).

One real `darkportal run` (physics likelihood, dynesty) replaces a finished result with --force; while it
samples, a second writer is refused; SIGTERM stops it with one line and a checkpoint; the finished result
is still intact; a --resume --force with a narrowed prior is refused without touching config.lock.yaml;
the original run file then resumes and replaces the result, whose posterior respects its run file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from inference.config.runfile import load_run_config
from inference.output.results import COMPLETE, LOCK, write_results
from inference.output.rundir import WRITER_LOCK, FolderBusyError, LockHolder, writer_lock
from inference.samplers import SamplerOutput
from inference.samplers.problem import SampleExtras

RUN = """\
name: replace_me
seed: 3
parameters:
  kappa: {{fixed: 0}}
  eta_d: {{prior: uniform, min: 0, max: {eta_d_max}}}
likelihood: {{data: "2023", mode: gaussian}}
sampler:
  name: dynesty
  settings: {{nlive: {nlive}, dlogz: {dlogz}, maxcall: {maxcall}, checkpoint_every: 0.3}}
"""


def darkportal(*args: str) -> list[str]:
    return [sys.executable, "-m", "inference.cli", *args]


def fake_result(outdir: Path, config: dict[str, object]) -> bytes:
    """A finished result written by write_results (no sampling): 200 draws of eta_d = 0.95."""
    n = 200
    names = tuple(config["parameters"])  # type: ignore[arg-type]
    free = [k for k in names if "fixed" not in config["parameters"][k]]  # type: ignore[index]
    samples = np.full((n, len(free)), 0.5)
    samples[:, free.index("eta_d")] = 0.95
    out = SamplerOutput(tuple(free), samples, np.full(n, 1 / n), np.zeros(n), -5.0, 0.1, info={}, sampler="dynesty")
    write_results(outdir, out, SampleExtras(), config, {"seed": 3})  # type: ignore[arg-type]
    (outdir / "figures").mkdir()
    (outdir / "figures" / "corner.png").write_bytes(b"old figure")
    return (outdir / "posterior.nc").read_bytes()


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before {path.name} appeared: {proc.communicate()}"
    assert path.exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_force_resume_writers_and_sigterm(tmp_path: Path) -> None:
    wide, narrow = tmp_path / "wide.yaml", tmp_path / "narrow.yaml"
    # minutes (nlive 400, dlogz 0.01): it is stopped long before it ends
    wide.write_text(RUN.format(eta_d_max=1, nlive=400, dlogz=0.01, maxcall=2_000_000))
    narrow.write_text(RUN.format(eta_d_max=0.2, nlive=400, dlogz=0.01, maxcall=2_000_000))
    short = tmp_path / "short.yaml"  # the same run with a call cap already reached (a setting a resume may change)
    short.write_text(RUN.format(eta_d_max=1, nlive=400, dlogz=0.01, maxcall=1000))
    out = tmp_path / "result"
    old_posterior = fake_result(out, load_run_config(wide).to_dict())

    # item 2: --force samples beside the finished result
    proc = subprocess.Popen(darkportal("run", str(wide), "--out", str(out), "--force"), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(out / "dynesty.save", proc)
    assert (out / COMPLETE).exists() and (out / "posterior.nc").read_bytes() == old_posterior

    # item 6: a second writer is refused and names the holder; the checkpoint is not touched
    second = subprocess.run(darkportal("run", str(wide), "--out", str(out), "--resume", "--force"),
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 1 and f"process {proc.pid} on" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr and (out / WRITER_LOCK).exists()

    # item 9: SIGTERM writes the checkpoint and says in one line how to resume
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    last = err.strip().splitlines()[-1]
    assert "SIGTERM" in last and "--resume --force" in last and "Traceback" not in err, err
    assert not (out / WRITER_LOCK).exists()
    # ... and the finished result is intact, figures and all
    assert (out / COMPLETE).exists() and (out / "posterior.nc").read_bytes() == old_posterior
    assert (out / "figures" / "corner.png").exists()

    # item 3: resuming with a narrowed prior is refused even with --force, and changes nothing
    lock_before = (out / LOCK).read_bytes()
    save_before = (out / "dynesty.save").read_bytes()
    bad = subprocess.run(darkportal("run", str(narrow), "--out", str(out), "--resume", "--force"),
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "different parameters" in bad.stderr and "without --resume" in bad.stderr, \
        bad.stderr
    assert "use --force" not in bad.stderr  # --force was given: the advice must not be to give it
    assert (out / LOCK).read_bytes() == lock_before and (out / "dynesty.save").read_bytes() == save_before
    # a plain --resume of a finished folder with a replacement under way says how to continue it
    plain = subprocess.run(darkportal("run", str(wide), "--out", str(out), "--resume"),
                           capture_output=True, text=True, timeout=300)
    assert plain.returncode == 1 and "--resume --force" in plain.stderr, plain.stderr

    # the original run file resumes the replacement and swaps it in at the end
    done = subprocess.run(darkportal("run", str(short), "--out", str(out), "--resume", "--force"),
                          capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr
    assert (out / "posterior.nc").read_bytes() != old_posterior and not (out / LOCK).exists()
    assert not (out / "figures").exists()  # figures of the replaced result are not left to contradict it
    with xr.open_datatree(out / "posterior.nc", engine="h5netcdf") as dt:
        eta_d = np.asarray(dt["posterior"]["eta_d"])
    assert eta_d.max() <= 1.0 and abs(float(np.median(eta_d)) - 0.95) > 1e-6


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_ctrl_c_checkpoints_and_exits_130_in_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run.yaml"
    run.write_text(RUN.format(eta_d_max=1, nlive=400, dlogz=0.01, maxcall=2_000_000))
    out = tmp_path / "out"
    proc = subprocess.Popen(darkportal("run", str(run), "--out", str(out)), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(out / "dynesty.save", proc)
    first = (out / "dynesty.save").stat().st_mtime_ns
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Ctrl-C" in err.strip().splitlines()[-1], err
    assert f"darkportal run {run} --resume --out {out}" in err
    assert (out / "dynesty.save").stat().st_mtime_ns >= first and not (out / WRITER_LOCK).exists()
    # the checkpoint written at the stop is this user's and resumes
    from inference.samplers.dynesty_backend import restore

    assert restore(out / "dynesty.save").it > 1


def test_stale_writer_lock_of_a_dead_process_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = LockHolder(dead.pid, os.uname().nodename, "2026-01-01 00:00:00 UTC", "darkportal run x.yaml")
    (tmp_path / WRITER_LOCK).write_text(json.dumps(holder.__dict__))
    with writer_lock(tmp_path) as me:
        assert me.pid == os.getpid()
        assert json.loads((tmp_path / WRITER_LOCK).read_text())["pid"] == os.getpid()
    assert "no longer running" in caplog.text and not (tmp_path / WRITER_LOCK).exists()


def test_live_or_foreign_writer_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    alive = LockHolder(os.getppid(), os.uname().nodename, "2026-01-01 00:00:00 UTC", "darkportal run a.yaml")
    (tmp_path / WRITER_LOCK).write_text(json.dumps(alive.__dict__))
    with pytest.raises(FolderBusyError, match=f"process {os.getppid()} on") as err:
        with writer_lock(tmp_path):
            pass
    assert err.value.holder == alive and "darkportal run a.yaml" in str(err.value)
    other = LockHolder(1, "some-other-host", "2026-01-01 00:00:00 UTC")
    (tmp_path / WRITER_LOCK).write_text(json.dumps(other.__dict__))
    with pytest.raises(FolderBusyError, match="if no darkportal runs on some-other-host any more, delete"):
        with writer_lock(tmp_path):
            pass
    assert json.loads((tmp_path / WRITER_LOCK).read_text())["host"] == "some-other-host"  # left alone


@pytest.mark.timeout(300)
def test_sigterm_during_emcee_keeps_every_finished_step(tmp_path: Path) -> None:
    """In-process: SIGTERM mid-chain flushes the buffered steps, then stops; the chain resumes from there."""
    import threading

    from test_resume import problem

    from inference.samplers import interrupt, run_sampler
    from inference.samplers.emcee_backend import _open_backend

    settings = {"nwalkers": 16, "max_steps": 100000, "tau_factor": 1000, "check_every": 50, "flush_every": 60.0,
                "thin_by": 1}  # every step stored, so stored steps count steps
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGTERM))
    with interrupt.graceful(), pytest.raises(interrupt.RunInterrupted) as stop:
        timer.start()
        run_sampler("emcee", problem("emcee"), settings, tmp_path, 11)
    timer.join()
    assert stop.value.saved and stop.value.exit_code == 143
    steps = _open_backend(tmp_path / "chain.h5", 60.0).iteration
    assert steps > 0  # flushed at the stop although flush_every is 60 s
    out = run_sampler("emcee", problem("emcee"), {**settings, "max_steps": steps + 20}, tmp_path, 11, resume=True)
    assert out.info["resumed_from_step"] == steps



SAMPLE_ON_RUN = """\
name: sample_on
seed: 5
parameters:
  kappa: {{fixed: 0}}
  eta_d: {{prior: uniform, min: 0, max: {eta_d_max}}}
likelihood: {{data: "2023", mode: gaussian}}
sampler:
  name: {sampler}
  settings: {settings}
"""
# (sampler, settings with {stop}, the short and the longer stop, what the log says when it continues)
SAMPLE_ON = {
    "emcee": ("{{nwalkers: 16, ensembles: 4, thin_by: 10, check_every: 500, max_steps: {stop}}}", 500, 1000,
              "at step 500"),
    "dynesty": ("{{nlive: 100, dlogz: {stop}, checkpoint_every: 5}}", 5, 0.5, "sampling on to dlogz = 0.5"),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sampler", list(SAMPLE_ON))
def test_resume_force_samples_on_from_a_finished_runs_checkpoint(tmp_path: Path, sampler: str) -> None:
    """A finished run keeps its checkpoint; --resume --force with a raised cap (emcee) or a smaller dlogz
    (dynesty) continues it, nothing sampled twice or lost, and gives exactly the result of one run to the new
    stop; a plain --resume says how; a run file with another prior is refused and changes nothing."""
    settings, short_stop, long_stop, said = SAMPLE_ON[sampler]

    def runfile(name: str, stop: float, eta_d_max: float = 1.0) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(SAMPLE_ON_RUN.format(sampler=sampler, settings=settings.format(stop=stop),
                                             eta_d_max=eta_d_max))
        return path

    short, long, narrow = runfile("short", short_stop), runfile("long", long_stop), runfile("narrow", long_stop, 0.5)
    out, straight = tmp_path / "out", tmp_path / "straight"
    for args in ((str(short), "--out", str(out)), (str(long), "--out", str(straight))):
        done = subprocess.run(darkportal("run", *args), capture_output=True, text=True, timeout=200)
        assert done.returncode == 0, done.stderr
    checkpoint = {"emcee": "chain.h5", "dynesty": "dynesty.save"}[sampler]
    plain = subprocess.run(darkportal("run", str(long), "--out", str(out), "--resume"), capture_output=True,
                           text=True, timeout=200)
    assert plain.returncode == 1 and "--resume --force" in plain.stderr and checkpoint in plain.stderr, plain.stderr
    before = {f: (out / f).read_bytes() for f in ("posterior.nc", checkpoint)}
    bad = subprocess.run(darkportal("run", str(narrow), "--out", str(out), "--resume", "--force"),
                         capture_output=True, text=True, timeout=200)
    assert bad.returncode == 1 and "different parameters" in bad.stderr, bad.stderr
    assert {f: (out / f).read_bytes() for f in before} == before and not (out / LOCK).exists()
    on = subprocess.run(darkportal("run", str(long), "--out", str(out), "--resume", "--force"), capture_output=True,
                        text=True, timeout=200)
    assert on.returncode == 0 and said in on.stderr, on.stderr
    info = json.loads((out / "provenance.json").read_text())["sampler_info"]
    assert info["resumed_from_step" if sampler == "emcee" else "resumed_from_iteration"] and not (out / LOCK).exists()
    with xr.open_datatree(out / "posterior.nc", engine="h5netcdf") as a, \
            xr.open_datatree(straight / "posterior.nc", engine="h5netcdf") as b:
        for name in ("eta_d", "m_S"):
            np.testing.assert_array_equal(np.asarray(a["posterior"][name]), np.asarray(b["posterior"][name]))
