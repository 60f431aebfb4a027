"""Results folders: atomic writing, reading with a format-version check, resume locks and summaries.

`results/<run>/` holds after a finished run:

- `posterior.nc` (ArviZ DataTree, netCDF through h5netcdf): `posterior` (equally weighted draws;
  walkers as chains for emcee, one chain resampled from the weights for nested/scan runs),
  `sample_stats` (log L of each draw, ln Z and its error), `weighted_samples` (the raw samples with their
  normalised weights and log L, dimension `sample`), `log_likelihood` (per-term log L: the
  `term_logl` of the `SampleExtras`), `posterior_predictive` (its `predictions`); root attributes carry the
  provenance as JSON. A "/" in a name is written as "_" (it would make a netCDF group).
- `summary.csv`, `evidence.json`, `run.yaml` (the resolved run file), `provenance.json`, and last
  `COMPLETE`.  Each file goes to a temporary name in the folder and is `os.replace`d, and `COMPLETE` is
  written only after all of them: a killed write never leaves a folder that reads as finished.

`config.lock.yaml` is written when a run starts and removed once the results are complete; `--resume`
compares it with the new resolved run file (`inference.output.rundir` has the rules and the writer lock).

A finished result is replaced only at the end of the run that replaces it: the new files are written to
temporary names first, and only then is `COMPLETE` removed, each file renamed into place, what the old
result left derived from itself (figures, tables, report) removed and `COMPLETE` written again.

Reading checks every file and turns a missing, damaged or foreign one into a :class:`ResultsFileError`
naming the file and the fix. Nothing read from a results folder is unpickled or executed: netCDF, CSV,
JSON and YAML (with the run-file loader's limits) only.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from inference.errors import DarkportalError
from inference.output.environment import environment_record
from inference.output.records import Evidence, Provenance
from inference.output.summary import (
    Summary,
    compute_summary,
    kish_ess,
    print_summary_table,
    summary_csv,
    weighted_quantiles,
)
from inference.samplers import SamplerOutput
from inference.samplers.problem import SampleExtras

__all__ = ["compute_summary", "print_summary_table", "weighted_quantiles"]  # re-exported from inference.output.summary

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
COMPLETE = "COMPLETE"
LOCK = "config.lock.yaml"
CHECKPOINTS = ("dynesty.save", "chain.h5", "chain.h5.bak", "scan.npz")
RESULT_FILES = ("posterior.nc", "summary.csv", "evidence.json", "run.yaml", "provenance.json")
#: made from a result by `plot` and `report`; removed when the result they were made from is replaced
DERIVED = ("figures", "report.html", "posterior_intervals.md", "posterior_intervals.csv", "posterior_intervals.tex",
           "benchmark_predictions.md", "benchmark_predictions.csv", "benchmark_predictions.tex")
#: larger JSON or CSV files than this are not darkportal's (they hold a few hundred numbers)
MAX_TEXT_BYTES = 16 * 1024 * 1024


class ResultsError(DarkportalError, RuntimeError):
    """Base class of the results-folder errors."""


class ResultsExistError(ResultsError):
    """The output folder already holds a finished (or unfinished) run; --force / --resume decide."""


class ConfigChangedError(ResultsError):
    """A resumed run's run file differs from the one the run started with."""


class FormatVersionError(ResultsError):
    """The results were written by another results-format version."""


class IncompleteResultsError(ResultsError):
    """The folder holds no finished run (no COMPLETE marker)."""


class ResultsFileError(ResultsError):
    """A file of a results folder is missing, damaged or not darkportal's."""

    def __init__(self, path: Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = Path(path), problem, fix
        super().__init__(f"{path}: {problem}; {fix}")


@dataclass(frozen=True)
class Results:
    """A finished run read back from its folder.

    outdir      Path           the results folder
    posterior   xr.DataTree    posterior.nc (groups in the module docstring)
    summary     Summary        summary.csv: one SummaryRow per parameter (`inference.output.summary` names the columns)
    evidence    Evidence       evidence.json (`inference.output.records` documents its fields)
    provenance  Provenance     provenance.json (`inference.output.records`)
    config      dict           run.yaml: the resolved run file, as `RunConfig.to_dict` writes it
    """

    outdir: Path
    posterior: xr.DataTree
    summary: Summary
    evidence: Evidence
    provenance: Provenance
    config: dict[str, Any]


# ----------------------------------------------------------------------------------------------- helpers
def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to a temporary file next to `path`, fsync it, and rename it over `path`."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def dump_config(config: dict[str, Any]) -> str:
    """A resolved run file as YAML (sorted keys), as in run.yaml and config.lock.yaml."""
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=False)


def config_diff(old: dict[str, Any], new: dict[str, Any], old_label: str = "stored run",
                new_label: str = "new run file") -> str:
    """Unified diff of two resolved configurations (empty when they are equal)."""
    return "".join(difflib.unified_diff(dump_config(old).splitlines(keepends=True),
                                        dump_config(new).splitlines(keepends=True), old_label, new_label))


def prepare_outdir(outdir: Path, resolved_config: dict[str, Any], *, resume: bool = False,
                   force: bool = False, run_file: str = "RUN.yaml") -> bool:
    """:func:`inference.output.rundir.prepare_outdir` (kept here for callers of the earlier location)."""
    from inference.output import rundir

    return rundir.prepare_outdir(outdir, resolved_config, resume=resume, force=force, run_file=run_file)


def collect_provenance(seed: int, sampler: str, settings: dict[str, Any], measurement_set: Any = None,
                       **extra: Any) -> dict[str, Any]:
    """Package and library versions, the exact versions of every installed package (``environment``: what
    ``requirements-lock.txt`` pins), git revision, seed, sampler settings and measurement set."""
    versions = {}
    for pkg in ("darkportal", "numpy", "scipy", "dynesty", "emcee", "arviz", "xarray"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {"version": versions["darkportal"], "versions": versions, "environment": environment_record(),
            "git_revision": git_revision(),
            "seed": seed, "sampler": sampler, "sampler_settings": settings,
            "measurement_set": measurement_set, "started_at": _now(), **extra}


def git_revision() -> str:
    """`git rev-parse HEAD` of the repository (with "+dirty" for local changes), or "unknown"."""
    root = Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _opt(kind: Any, value: Any) -> Any:
    return None if value is None else kind(value)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


# ------------------------------------------------------------------------------------------- posterior
def _draw_indices(output: SamplerOutput, seed: int) -> np.ndarray:
    """Indices of equally weighted draws: identity for MCMC, otherwise systematic resampling by weight
    followed by a random permutation.

    Systematic resampling returns the indices in the order of the samples, which for nested sampling is
    the order of rising log L: without the permutation the draws would trend like a chain that has not
    mixed (ArviZ's bulk ESS of 12 for eta_c on a default run).  Both steps use the run's seed.
    """
    n = len(output.weights)
    if np.allclose(output.weights, 1.0 / n):
        return np.arange(n)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 6]))
    positions = (rng.random() + np.arange(n)) / n
    cdf = np.cumsum(output.weights / np.sum(output.weights))
    cdf[-1] = 1.0
    return rng.permutation(np.searchsorted(cdf, positions, side="right"))


#: descriptions of the variables of the `weighted_samples` group (stored as each variable's attrs)
WEIGHTED_SAMPLES_DOC = {
    "weights": "normalised importance weight of each raw sample (nested sampling: posterior weight of the dead "
               "point, including the final live points)",
    "logl": "total log-likelihood of each raw sample",
    "logl_birth": "nested sampling: log-likelihood contour inside which the point was drawn (-inf for the "
                  "initial live points)",
    "nlive": "nested sampling: number of live points when the point died",
    "log_volume": "nested sampling: ln of the expected prior volume X enclosed by the point's contour",
}


def build_datatree(output: SamplerOutput, blobs: SampleExtras, seed: int,
                   attrs: dict[str, Any]) -> xr.DataTree:
    """The ArviZ DataTree written to posterior.nc (see the module docstring for the groups)."""
    import arviz as az

    idx = _draw_indices(output, seed)
    chains = output.chains if np.array_equal(idx, np.arange(len(idx))) else 1
    shape = (chains, len(idx) // chains)

    def drawn(values: np.ndarray) -> np.ndarray:
        return np.asarray(values)[idx].reshape(shape)

    groups: dict[str, dict[str, np.ndarray]] = {
        "posterior": {n: drawn(output.samples[:, j]) for j, n in enumerate(output.names)},
        "sample_stats": {"logl": drawn(output.logl)},
    }
    for group, extras in (("log_likelihood", blobs.term_logl), ("posterior_predictive", blobs.predictions)):
        for key, values in extras.items():
            if len(values) != len(output.samples):
                raise ValueError(f"{group} {key!r} has {len(values)} rows, the samples {len(output.samples)}")
            groups.setdefault(group, {})[key.replace("/", "_")] = drawn(values)
    dt = az.from_dict(groups)
    dt["sample_stats"].ds = dt["sample_stats"].ds.assign(
        logz=output.logz, logz_err=np.nan if output.logz_err is None else output.logz_err)
    raw = {n: ("sample", output.samples[:, j], {"description": "parameter value (paper units)"})
           for j, n in enumerate(output.names)}
    per_sample = {"weights": output.weights, "logl": output.logl, **output.per_sample}
    for key, values in per_sample.items():
        if len(values) != len(output.samples):
            raise ValueError(f"per-sample {key!r} has {len(values)} rows, the samples {len(output.samples)}")
        raw[key] = ("sample", np.asarray(values), {"description": WEIGHTED_SAMPLES_DOC.get(key, key)})
    dt["weighted_samples"] = xr.DataTree(xr.Dataset(raw))
    dt.attrs.update({k: json.dumps(_jsonable(v)) if isinstance(v, dict | list) else v for k, v in attrs.items()})
    return dt


# ---------------------------------------------------------------------------------------- write / read
def write_results(outdir: Path, output: SamplerOutput, blobs: SampleExtras,
                  resolved_config: dict[str, Any], provenance: dict[str, Any], *, force: bool = False) -> Path:
    """Write every results file atomically, then the COMPLETE marker; return the folder.

    A finished result already in ``outdir`` (replaced only with ``force``) stays intact until every new
    file has been written; then the files are swapped in (module docstring)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if (outdir / COMPLETE).exists() and not force:
        raise ResultsExistError(f"{outdir} already holds a finished run; to replace it run again with --force")
    seed = int(provenance.get("seed", 0) or 0)
    prov = _jsonable({**provenance, "format_version": FORMAT_VERSION, "sampler": output.sampler
                      or provenance.get("sampler"), "sampler_info": {**output.info, **output.stop.as_record()},
                      "written_at": _now()})
    dt = build_datatree(output, blobs, seed, {"format_version": FORMAT_VERSION, "provenance": prov})
    staged: dict[str, Path] = {name: outdir / f".{name}.new" for name in RESULT_FILES}
    try:
        dt.to_netcdf(staged["posterior.nc"], engine="h5netcdf")
        summary = compute_summary(output, dt)
        info = output.info
        evidence = Evidence(
            format_version=FORMAT_VERSION, sampler=output.sampler, logz=float(output.logz),
            logz_err=_opt(float, output.logz_err), logz_resampled=tuple(float(v) for v in output.logz_resampled),
            logz_resampled_std=float(np.std(output.logz_resampled, ddof=1)) if len(output.logz_resampled) > 1
            else None,
            kish_ess=kish_ess(output.weights), ncall=_opt(int, info.get("ncall")), niter=_opt(int, info.get("niter")),
            efficiency=_opt(float, info.get("efficiency")), stop=output.stop,
            evidence_method=_opt(str, info.get("evidence_method")),
            logz_batch_err=_opt(float, info.get("logz_batch_err")), logz_nested=_opt(float, info.get("logz_nested")),
            logz_err_nested=_opt(float, info.get("logz_err_nested"))).as_json()
        texts = {"summary.csv": summary_csv(summary),
                 "evidence.json": json.dumps(_jsonable(evidence), indent=2) + "\n",
                 "run.yaml": dump_config(resolved_config), "provenance.json": json.dumps(prov, indent=2) + "\n"}
        for name, text in texts.items():
            atomic_write_text(staged[name], text)
        _fsync_file(staged["posterior.nc"])
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    # the swap: from here on only renames and unlinks
    (outdir / COMPLETE).unlink(missing_ok=True)
    for name in RESULT_FILES:
        os.replace(staged[name], outdir / name)
    for name in DERIVED:
        old = outdir / name
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    marker = {"format_version": FORMAT_VERSION, "files": list(RESULT_FILES), "written_at": _now()}
    atomic_write_text(outdir / COMPLETE, json.dumps(marker) + "\n")
    (outdir / LOCK).unlink(missing_ok=True)  # the checkpoint's run is finished
    log.info("results written to %s", outdir)
    return outdir


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def read_results(outdir: Path) -> Results:
    """Read a finished run; refuse an unfinished or foreign folder, another format version or a damaged file
    with a message naming the file and the fix (:mod:`inference.output.results_read`)."""
    from inference.output.results_read import read_results as read

    return read(outdir)


def load_small_yaml(path: Path, what: str) -> dict[str, Any]:
    """A YAML mapping from a results folder, read with the run-file loader's limits (no alias bombs)."""
    from inference.output.results_read import load_small_yaml as load

    return load(path, what)
