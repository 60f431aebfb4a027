"""The state of a results folder while a run writes into it: one writer at a time, what may be resumed,
and nothing lost or contradicted (issue 12).

Files of a run folder besides the results (``inference.output.results``):

- ``writer.lock``: who is writing now (pid, host, start time, command). Created with an atomic link, so
  of two writers exactly one gets it; the other is refused and told who holds it. A lock whose process
  is gone (same host, pid not running or reused) is stale and taken over with a warning.
- ``config.lock.yaml``: the resolved run file the checkpoint in the folder was started with. It exists
  only while an unfinished run's checkpoint is there (it is removed when the results are complete), so a
  finished folder that also holds a ``config.lock.yaml`` has an unfinished replacement under way.
- checkpoints (``dynesty.save``, ``chain.h5`` and its backup, ``scan.npz``).

Rules: a finished result is replaced only when the new run has completed (``--force`` samples beside it;
:func:`inference.output.results.write_results` swaps the files in at the end). ``--resume`` continues a checkpoint
(with ``--force``, also the one a finished run kept, to sample on with a raised cap or a tighter stop)
only with a run file that samples the same posterior: a change of prior, likelihood, theory, seed, sampler
or a setting the checkpoint fixes (such as nlive) is refused even with ``--force``, because the checkpoint
would go on sampling the old one. Nothing is written to the folder before these checks pass, and a run
that fails before its first checkpoint leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.output.results import (
    CHECKPOINTS,
    COMPLETE,
    LOCK,
    ConfigChangedError,
    ResultsError,
    ResultsExistError,
    atomic_write_text,
    config_diff,
    dump_config,
    load_small_yaml,
)
from inference.samplers import SAMPLERS, sampler

log = logging.getLogger(__name__)

WRITER_LOCK = "writer.lock"
#: every name darkportal itself puts into a run folder (a folder with none of them is not a run folder)
RUN_FILES = (COMPLETE, LOCK, WRITER_LOCK, *CHECKPOINTS)

#: top-level keys that do not change what is sampled
FREE_KEYS = frozenset({"name", "description", "output"})


class OutputFolderError(ResultsError):
    """The output path cannot be a run folder (a file, unwritable, or a folder of other files)."""


class FolderBusyError(ResultsError):
    """Another darkportal process is writing into the folder."""

    def __init__(self, message: str, holder: LockHolder | None) -> None:
        super().__init__(message)
        self.holder = holder


class IncompatibleCheckpointError(ConfigChangedError):
    """The checkpoint was sampled under a run file that defines another posterior; it cannot be resumed."""


# --------------------------------------------------------------------------------------------- writer lock
@dataclass(frozen=True)
class LockHolder:
    """The process named in a writer lock."""

    pid: int
    host: str
    started: str
    command: str = ""
    proc_start: str | None = None

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}, started {self.started}" + (
            f" ({self.command})" if self.command else "")

    def is_alive(self) -> bool | None:
        """True / False on this host, None when the holder is on another host (cannot be checked)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        except OSError:
            return False
        now = _proc_start(self.pid)
        return not (self.proc_start and now and now != self.proc_start)  # a reused pid is not the holder


def _proc_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _read_holder(path: Path) -> LockHolder | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(int(raw["pid"]), str(raw["host"]), str(raw["started"]), str(raw.get("command", "")),
                          raw.get("proc_start"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def writer_lock(outdir: Path, command: str = "") -> Iterator[LockHolder]:
    """Hold ``outdir/writer.lock`` for the duration of the block; refuse a second writer (FolderBusyError)."""
    path = Path(outdir) / WRITER_LOCK
    me = LockHolder(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%d %H:%M:%S %Z"), command,
                    _proc_start(os.getpid()))
    tmp = path.with_name(f".{WRITER_LOCK}.{me.pid}.tmp")
    atomic_write_text(tmp, json.dumps(me.__dict__) + "\n")
    try:
        for _ in range(3):
            try:
                os.link(tmp, path)  # atomic: fails if the lock exists
                break
            except FileExistsError:
                _take_over_if_stale(path)
        else:
            raise FolderBusyError(f"{path}: cannot take the writer lock", None)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        yield me
    finally:
        if _read_holder(path) == me:
            path.unlink(missing_ok=True)


def _take_over_if_stale(path: Path) -> None:
    holder = _read_holder(path)
    if holder is None:
        age = time.time() - path.stat().st_mtime if path.exists() else 0.0
        if age < 5.0:  # being written this instant by another writer
            time.sleep(0.2)
            holder = _read_holder(path)
        if holder is None:
            log.warning("%s is unreadable (left by a crash); taking it over", path)
            path.unlink(missing_ok=True)
            return
    alive = holder.is_alive()
    if alive is False:
        log.warning("%s was left by %s, which is no longer running; taking it over", path, holder.describe())
        path.unlink(missing_ok=True)
        return
    where = path.parent
    if alive is None:
        raise FolderBusyError(
            f"{where} is being written by {holder.describe()} (lock file {path}); wait for that run to end, or, "
            f"if no darkportal runs on {holder.host} any more, delete {path}", holder)
    raise FolderBusyError(
        f"{where} is being written by {holder.describe()} (lock file {path}); wait for that run to end or stop "
        f"it (kill {holder.pid}); a second writer would corrupt its checkpoint. Use --out for a separate run",
        holder)


# ----------------------------------------------------------------------------------------- folder checks
def check_output_folder(outdir: Path, origin: str) -> Path:
    """Refuse an output path that cannot be a run folder; create it. ``origin`` says where the path came
    from (``--out`` or ``output: in FILE``) for the messages."""
    outdir = Path(outdir)
    if str(outdir).strip() in {"", "."} or outdir.resolve() == Path(outdir.resolve().anchor):
        raise OutputFolderError(f"{origin} is {str(outdir)!r}: results would be written into the current or root "
                                "folder; give a folder of their own, such as results/NAME")
    if outdir.exists() and not outdir.is_dir():
        raise OutputFolderError(f"{origin} {outdir} is a file, not a folder; give a folder path (new or from an "
                                "earlier darkportal run), for example --out results/NAME")
    if outdir.is_dir() and any(outdir.iterdir()) and not is_run_folder(outdir):
        raise OutputFolderError(f"{origin} {outdir} already holds other files and no darkportal run; give a new "
                                "or empty folder so that nothing of yours is overwritten")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe = outdir / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputFolderError(f"cannot create or write the output folder {outdir} ({origin}): "
                                f"{exc.strerror or exc}; choose a folder you can write with --out") from None
    return outdir


def is_run_folder(outdir: Path) -> bool:
    return any((Path(outdir) / name).exists() for name in RUN_FILES)


def checkpoints_in(outdir: Path) -> list[str]:
    return [f for f in CHECKPOINTS if (Path(outdir) / f).exists()]


def sampling_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Key paths where ``new`` samples another posterior than ``old`` (or with settings the checkpoint fixes)."""
    changed: list[str] = []
    for key in sorted(set(old) | set(new)):
        if key in FREE_KEYS or old.get(key) == new.get(key):
            continue
        if key != "sampler":
            changed.append(key)
            continue
        o, n = old.get("sampler"), new.get("sampler")
        if not isinstance(o, Mapping) or not isinstance(n, Mapping) or o.get("name") != n.get("name"):
            changed.append("sampler.name")
            continue
        # the settings a resumed run may change: the adapter's RESUMABLE (inference.samplers registry)
        free = sampler(str(n["name"])).RESUMABLE if n.get("name") in SAMPLERS else frozenset()
        so, sn = o.get("settings") or {}, n.get("settings") or {}
        changed += [f"sampler.settings.{k}" for k in sorted(set(so) | set(sn))
                    if k not in free and so.get(k) != sn.get(k)]
    return changed


# ------------------------------------------------------------------------------------------- prepare
def prepare_outdir(outdir: Path, resolved_config: dict[str, Any], *, resume: bool = False,
                   force: bool = False, run_file: str = "RUN.yaml") -> bool:
    """Check ``outdir`` before sampling and record the run's configuration; True when a checkpoint is resumed.

    See the module docstring for the rules. Call it while holding :func:`writer_lock`."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    lock = outdir / LOCK
    complete = (outdir / COMPLETE).exists()
    checkpoints = checkpoints_in(outdir)
    replacing = complete and lock.exists()  # a --force run over a finished result was interrupted
    again = f"darkportal run {run_file} --out {outdir}"
    if complete and not force:
        extra = (f"; it also holds an unfinished replacement started with --force: continue it with "
                 f"'{again} --resume --force'" if replacing and checkpoints else
                 f"; to sample on from its checkpoint ({', '.join(checkpoints)}) with a raised cap or a tighter "
                 f"stop, run '{again} --resume --force'" if checkpoints and resume else "")
        raise ResultsExistError(f"{outdir} already holds a finished run{extra}; to replace it run '{again} --force' "
                                "(the finished result is kept until the new run completes), or choose another "
                                "folder with --out")
    if resume and checkpoints:  # a finished run without --force was refused above
        # an unfinished checkpoint (its config lock names the run file), or the one a finished run kept (its
        # run.yaml names it: sampling on with a raised cap or a tighter stop): continued only with a run file
        # that samples the same posterior; a finished result stays until the continued run completes
        finished = complete and not replacing
        stored = outdir / ("run.yaml" if finished else LOCK)
        if not stored.exists():
            raise ConfigChangedError(
                f"{outdir} holds a checkpoint ({', '.join(checkpoints)}) but no {stored.name} saying which run file "
                f"it belongs to, so it cannot be resumed safely; start again with '{again} --force' (without --resume)")
        old = load_small_yaml(stored, "the run file of the finished run" if finished else
                              "the run file the checkpoint was started with")
        diff = config_diff(old, resolved_config, f"{stored} ({'finished' if finished else 'stored'} run)",
                           "new run file")
        changes = sampling_changes(old, resolved_config)
        if changes:
            raise IncompatibleCheckpointError(
                f"the checkpoint in {outdir} was sampled with a different {', '.join(changes)}; resuming it would "
                f"go on sampling the old run file{' (even with --force)' if force else ''}. Either restore the run "
                f"file and resume, or start again with '{again} --force' (without --resume; "
                + ("the finished result is kept until the new run completes" if complete else
                   "the checkpoint is then replaced") + f"):\n{diff}")
        if diff and not force:
            raise ConfigChangedError(f"the run file changed since the run in {outdir} started; resume with the new "
                                     f"stopping or saving settings with '{again} --resume --force', or use --out "
                                     f"for a new run:\n{diff}")
        if finished:  # the lock now describes the checkpoint, so an interrupted continuation is a replacement
            log.warning("%s: continuing the finished run from its checkpoint (%s)%s; the finished result is kept "
                        "until this run completes", outdir, ", ".join(checkpoints),
                        f" with changed stopping or saving settings:\n{diff}" if diff else "")
            atomic_write_text(lock, dump_config(old))
        elif diff:
            log.warning("resuming %s with changed stopping or saving settings (--force):\n%s", outdir, diff)
        return True  # an existing config.lock.yaml is left as it is: it describes the checkpoint
    if resume:
        log.info("%s: no unfinished checkpoint to resume; starting from the beginning", outdir)
    elif checkpoints and not complete and not force:
        raise ResultsExistError(f"{outdir} holds an unfinished run ({', '.join(checkpoints)}); continue it with "
                                f"'{again} --resume' or start again with '{again} --force'")
    for name in CHECKPOINTS:  # those of an abandoned or of the finished run; its results stay
        (outdir / name).unlink(missing_ok=True)
    atomic_write_text(lock, dump_config(resolved_config))
    return False


def clean_failed_start(outdir: Path, created: bool) -> None:
    """After a run failed: if it left no checkpoint, remove its config lock (and the folder it created), so
    that nothing blocks a corrected rerun."""
    outdir = Path(outdir)
    if checkpoints_in(outdir):
        return
    (outdir / LOCK).unlink(missing_ok=True)
    if created:
        try:
            leftovers = [p for p in outdir.iterdir() if p.name != WRITER_LOCK]
            if not leftovers:
                (outdir / WRITER_LOCK).unlink(missing_ok=True)
                outdir.rmdir()
        except OSError:
            pass
