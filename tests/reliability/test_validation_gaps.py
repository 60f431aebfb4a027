"""Physical ranges checked before anything runs, nothing left behind by a failed start, `predict` without NaN
(issue 12, item 7; the --force half of item 2 in-process). Before the fix a fixed kappa = 1e300 passed
`validate`, then `run` failed mid-start naming neither file nor key and left a lock that blocked a rerun."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RUN_FILE, assert_clean, cli, fake_result, resolved, write_run

from inference.output.results import COMPLETE, LOCK, read_results
from inference.output.rundir import prepare_outdir

HUGE_KAPPA = RUN_FILE.replace("kappa: {fixed: 0}", "kappa: {fixed: 1.0e300}")
HUGE_ETA = RUN_FILE.replace("kappa: {fixed: 0}", "kappa: {fixed: 0}\n  eta_c: {prior: uniform, min: -1.0e250, max: 1}")


@pytest.mark.parametrize(("text", "key", "phrase"), [
    (HUGE_KAPPA, "parameters.kappa.fixed (line 4)", "outside the physical domain"),
    (HUGE_ETA, "parameters.eta_c.min (line 5)", "the likelihood cannot be computed at eta_c = -"),
    (RUN_FILE.replace("name: tiny", 'name: tiny\noutput: ""'), "output (line 2)", "not a folder of its own"),
    (RUN_FILE.replace("name: tiny", "name: tiny\noutput: ."), "output (line 2)", "not a folder of its own"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_run_and_validate_refuse_before_anything_runs(tmp_path: Path, text: str, key: str, phrase: str,
                                                      command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = write_run(tmp_path, text)
    code, _, err = cli(command, str(run))
    assert code == 1
    assert f"{run}: {key}: " in err and phrase in err and len(err.strip().splitlines()) == 1, err
    assert_clean(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]  # no folder, no lock


def test_a_failed_start_leaves_no_lock_and_keeps_a_finished_result(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import inference.samplers as samplers

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the likelihood failed at its first call")

    monkeypatch.setattr(samplers, "run_sampler", fail)
    run = write_run(tmp_path)
    fresh = tmp_path / "fresh"
    code, _, err = cli("run", str(run), "--out", str(fresh))
    assert code == 1 and "first call" in err
    assert not fresh.exists()  # created by the failed run, removed again
    finished = fake_result(tmp_path / "finished", resolved(run))
    before = {p.name: p.read_bytes() for p in finished.iterdir() if p.is_file()}
    code, _, err = cli("run", str(run), "--out", str(finished), "--force")
    assert code == 1
    assert {p.name: p.read_bytes() for p in finished.iterdir() if p.is_file()} == before  # nothing lost
    assert not (finished / LOCK).exists() and read_results(finished).evidence.logz == -5.0
    # and a start that failed in a run folder does not block the next one
    (fresh).mkdir()
    prepare_outdir(fresh, resolved(run))
    assert (fresh / LOCK).exists()
    (fresh / LOCK).unlink()
    assert prepare_outdir(fresh, resolved(run)) is False and not (fresh / COMPLETE).exists()


@pytest.mark.parametrize("params", [
    "kappa=1e300,eta_d=0.17,eta_c=-0.13,eta_t=0.0054,g_D=2.18,U_mu4=4.86e-3,m_S=38,m_nu4=413",
    "kappa=1,eta_d=1e200,eta_c=-0.13,eta_t=0.0054,g_D=2.18,U_mu4=4.86e-3,m_S=38,m_nu4=413",
    "kappa=1,eta_d=0.17,eta_c=-0.13,eta_t=nan,g_D=2.18,U_mu4=4.86e-3,m_S=38,m_nu4=413",
])
def test_predict_at_an_unphysical_point_is_a_clear_error(params: str, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli("predict", "--params", params)
    captured = capfd.readouterr()
    assert code == 2 and out == "" and "nan" not in out.lower()
    assert "darkportal predict: error:" in err and ("physical" in err or "cannot be computed" in err
                                                    or "not a finite number" in err), err
    assert "RuntimeWarning" not in err + captured.err
