"""Nested runs on separate machines: one part per rank, merged afterwards (issue 17).

``darkportal run RUN.yaml --rank I --nranks N`` runs the I-th of the N independent nested runs that
``nruns: N`` would run in one process (the same seed, `dynesty_backend.run_seeds`), into its own part
folder ``<output>.parts/rank-I`` (the signed checkpoint ``dynesty.save`` and, once finished, ``part.json``);
no MPI is needed, so the parts can be jobs of a batch array on any machines that see the run file.
``darkportal merge RUN.yaml`` then checks that the N parts are complete, of the same run file (the digest of
its resolved configuration without name, description and output) and of the expected seeds, merges them
with `dynesty.utils.merge_runs` and finishes as ``nruns: N`` would: the same merged run, the same
importance refinement (if the run file asks for it) and the same results folder.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dynesty import utils as dyfunc

from inference.errors import DarkportalError
from inference.output.results import atomic_write_text
from inference.output.rundir import FREE_KEYS
from inference.samplers import SamplerOutput, check_settings
from inference.samplers.dynesty_backend import CHECKPOINT, DEFAULTS, _one_run, finish, restore, run_seeds
from inference.samplers.pool import PoolHandle
from inference.samplers.problem import SamplingProblem

PART_RECORD = "part.json"
PART_FORMAT_VERSION = 1


class PartsError(DarkportalError, ValueError):
    """The parts cannot be merged: ``path`` is the part folder (or the parts folder), ``key`` what differs
    (``missing``, ``incomplete``, ``format_version``, ``config_digest``, ``nranks``, ``seed``, ``rank``),
    ``expected`` and ``found`` its values."""

    def __init__(self, path: Path, key: str, expected: Any, found: Any, fix: str) -> None:
        self.path, self.key, self.expected, self.found = Path(path), key, expected, found
        super().__init__(f"{path}: {key} is {found!r}, expected {expected!r}. {fix}")


@dataclass(frozen=True)
class PartRecord:
    """``part.json`` of a finished part: which part of which run it is, and what it found."""

    rank: int
    nranks: int
    seed: int  # the seed of this part's nested run (run_seeds(run seed, nranks)[rank])
    config_digest: str
    logz: float
    logz_err: float
    ncall: int
    niter: int
    wall_time: float
    format_version: int = PART_FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> PartRecord:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = int(data.get("format_version", -1))
            if found != PART_FORMAT_VERSION:
                raise PartsError(path.parent, "format_version", PART_FORMAT_VERSION, found,
                                 "Run this part again with this darkportal version")
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, PartsError):
                raise
            raise PartsError(path.parent, "incomplete", PART_RECORD, f"unreadable ({exc})",
                             "Run this part again with --force") from exc


def config_digest(resolved: Mapping[str, Any]) -> str:
    """SHA-256 of a resolved run file without the keys that do not change what is sampled
    (inference.output.rundir.FREE_KEYS, the keys a resumed run may change too)."""
    kept = {k: v for k, v in resolved.items() if k not in FREE_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def parts_folder(outdir: Path) -> Path:
    """Where the parts of the run whose results go to `outdir` are written: ``<outdir>.parts``."""
    outdir = Path(outdir)
    return outdir.with_name(outdir.name + ".parts")


def part_folder(outdir: Path, rank: int) -> Path:
    return parts_folder(outdir) / f"rank-{rank}"


def run_part(problem: SamplingProblem, settings: Mapping[str, Any], partdir: Path, seed: int, rank: int,
             nranks: int, digest: str, resume: bool = False) -> PartRecord:
    """Part `rank` of `nranks`: the nested run `nruns: nranks` would run as its run `rank` (no refinement),
    checkpointed into `partdir`; ``part.json`` is written (atomically) only when it has finished."""
    if not 0 <= rank < nranks:
        raise PartsError(partdir, "rank", f"0 .. {nranks - 1}", rank, "Give --rank between 0 and --nranks - 1")
    opts = check_settings("dynesty", settings, DEFAULTS)
    partdir.mkdir(parents=True, exist_ok=True)
    (partdir / PART_RECORD).unlink(missing_ok=True)
    part_seed = run_seeds(seed, nranks)[rank]
    t0 = time.monotonic()
    res, _ = _one_run(problem, opts, partdir / CHECKPOINT, part_seed, None, resume)
    record = PartRecord(rank=rank, nranks=nranks, seed=part_seed, config_digest=digest,
                        logz=float(res["logz"][-1]), logz_err=float(res["logzerr"][-1]),
                        ncall=int(sum(res["ncall"])), niter=int(res["niter"]), wall_time=time.monotonic() - t0)
    atomic_write_text(partdir / PART_RECORD, record.to_json())
    return record


def check_parts(parts: Path, seed: int, digest: str) -> list[PartRecord]:
    """The records of the complete set of parts in `parts` (rank-0 .. rank-(N-1)), checked against the run
    file (`digest`, `seed`); any missing, unfinished or foreign part raises `PartsError`."""
    folders = sorted(parts.glob("rank-*")) if parts.is_dir() else []
    if not folders:
        raise PartsError(parts, "missing", "rank-0 ... rank-(N-1)", "no part folders",
                         "Run the parts first: darkportal run RUN.yaml --rank I --nranks N")
    records = []
    for folder in folders:
        if not (folder / PART_RECORD).exists():
            raise PartsError(folder, "incomplete", PART_RECORD, "absent",
                             "This part has not finished: continue it with darkportal run RUN.yaml --rank I "
                             "--nranks N --resume")
        records.append(PartRecord.read(folder / PART_RECORD))
    nranks = records[0].nranks
    seeds = run_seeds(seed, nranks)
    by_rank = {r.rank: (r, f) for r, f in zip(records, folders, strict=True)}
    for rank in range(nranks):
        if rank not in by_rank:
            raise PartsError(parts / f"rank-{rank}", "missing", f"rank-{rank}", "absent",
                             f"Run it: darkportal run RUN.yaml --rank {rank} --nranks {nranks}")
    for record, folder in zip(records, folders, strict=True):
        if folder.name != f"rank-{record.rank}":
            raise PartsError(folder, "rank", folder.name, f"rank-{record.rank}", "Do not rename part folders")
        if record.nranks != nranks:
            raise PartsError(folder, "nranks", nranks, record.nranks, "Run every part with the same --nranks")
        if record.config_digest != digest:
            raise PartsError(folder, "config_digest", digest, record.config_digest,
                             "This part was sampled from another run file (prior, likelihood, theory, seed or "
                             "sampler settings differ): run it again with this one and --force")
        if record.seed != seeds[record.rank]:
            raise PartsError(folder, "seed", seeds[record.rank], record.seed, "Run this part again with --force")
    return [by_rank[rank][0] for rank in range(nranks)]


def merge_parts(problem: SamplingProblem, settings: Mapping[str, Any], parts: Path, seed: int, digest: str,
                pool: PoolHandle | None = None) -> SamplerOutput:
    """The checked parts in `parts` merged and finished as one run with ``nruns`` = their number."""
    t0 = time.monotonic()
    records = check_parts(parts, seed, digest)
    opts = {**check_settings("dynesty", settings, DEFAULTS), "nruns": len(records)}
    results = [restore(parts / f"rank-{r.rank}" / CHECKPOINT).results for r in records]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = dyfunc.merge_runs(results) if len(results) > 1 else results[0]
    out = finish(problem, merged, opts, seed, pool, t0, len(records), str(parts / "rank-<i>" / CHECKPOINT), None)
    out.info.update(parts=str(parts), part_wall_times=[r.wall_time for r in records])
    return out
