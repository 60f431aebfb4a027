"""Results folders: atomic writing, reading with a format-version check, resume locks and summaries.

`results/<run>/` holds after a finished run:

- `posterior.nc` (ArviZ DataTree, netCDF through h5netcdf): `posterior` (equally weighted draws;
  walkers as chains for emcee, one chain resampled from the weights for nested/scan runs),
  `sample_stats` (log L of each draw, ln Z and its error), `weighted_samples` (the raw samples with their
  normalised weights and log L, dimension `sample`), `log_likelihood` (per-term log L from the
  "logl:<term>" blobs), `posterior_predictive` (the "pred:<observable>" blobs); root attributes carry the
  provenance as JSON.
- `summary.csv`, `evidence.json`, `run.yaml` (the resolved run file), `provenance.json`, and last
  `COMPLETE`.  Each file goes to a temporary name in the folder and is `os.replace`d, and `COMPLETE` is
  written only after all of them: a killed write never leaves a folder that reads as finished.

`config.lock.yaml` is written when a run starts; `--resume` compares it with the new resolved run file.
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io
import json
import logging
import os
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from inference.samplers import SamplerOutput

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
COMPLETE = "COMPLETE"
LOCK = "config.lock.yaml"
CHECKPOINTS = ("dynesty.save", "chain.h5", "chain.h5.bak", "scan.npz")
RESULT_FILES = ("posterior.nc", "summary.csv", "evidence.json", "run.yaml", "provenance.json")
QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
SUMMARY_COLUMNS = ("parameter", "mean", "sd", "median", "q2.5", "q16", "q84", "q97.5",
                   "r_hat", "ess_bulk", "ess_tail")


class ResultsError(RuntimeError):
    """Base class of the results-folder errors."""


class ResultsExistError(ResultsError):
    """The output folder already holds a finished (or unfinished) run; --force / --resume decide."""


class ConfigChangedError(ResultsError):
    """A resumed run's run file differs from the one the run started with."""


class FormatVersionError(ResultsError):
    """The results were written by another results-format version."""


class IncompleteResultsError(ResultsError):
    """The folder holds no finished run (no COMPLETE marker)."""


@dataclass
class Results:
    """A finished run read back from its folder."""

    outdir: Path
    posterior: xr.DataTree
    summary: list[dict[str, Any]]
    evidence: dict[str, Any]
    provenance: dict[str, Any]
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


def _dump_yaml(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=False)


def config_diff(old: dict[str, Any], new: dict[str, Any], old_label: str = "stored run",
                new_label: str = "new run file") -> str:
    """Unified diff of two resolved configurations (empty when they are equal)."""
    return "".join(difflib.unified_diff(_dump_yaml(old).splitlines(keepends=True),
                                        _dump_yaml(new).splitlines(keepends=True), old_label, new_label))


def prepare_outdir(outdir: Path, resolved_config: dict[str, Any], *, resume: bool = False,
                   force: bool = False) -> bool:
    """Check and lock `outdir` before sampling; return True when a checkpoint will be resumed.

    A finished run is never overwritten without `force`.  An unfinished one needs `resume` (or `force`
    to start again).  On resume the stored config must equal the new one unless `force`; the error
    shows the difference.  With `force` and no `resume`, old checkpoints and results are removed.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    lock, complete = outdir / LOCK, (outdir / COMPLETE).exists()
    checkpoints = [f for f in CHECKPOINTS if (outdir / f).exists()]
    if complete and not force:
        raise ResultsExistError(f"{outdir} already holds a finished run; use --force to overwrite it "
                                "or choose another output folder with --out")
    if resume and lock.exists():
        old = yaml.safe_load(lock.read_text(encoding="utf-8")) or {}
        diff = config_diff(old, resolved_config, f"{lock} (stored run)", "new run file")
        if diff and not force:
            raise ConfigChangedError(f"the run file changed since the run in {outdir} started; "
                                     f"use --force to resume anyway or --out for a new run:\n{diff}")
        if diff:
            log.warning("resuming %s with a changed run file (--force):\n%s", outdir, diff)
    elif not resume and (checkpoints or lock.exists()) and not force:
        raise ResultsExistError(f"{outdir} holds an unfinished run ({', '.join(checkpoints) or LOCK}); "
                                "use --resume to continue it or --force to start again")
    if force and not resume:
        for name in (*CHECKPOINTS, *RESULT_FILES, COMPLETE):
            (outdir / name).unlink(missing_ok=True)
    if complete and force:
        (outdir / COMPLETE).unlink(missing_ok=True)
    atomic_write_text(lock, _dump_yaml(resolved_config))
    return resume and bool(checkpoints)


def collect_provenance(seed: int, sampler: str, settings: dict[str, Any], measurement_set: Any = None,
                       **extra: Any) -> dict[str, Any]:
    """Package and library versions, git revision, seed, sampler settings and measurement set."""
    versions = {}
    for pkg in ("darkportal", "numpy", "scipy", "dynesty", "emcee", "arviz", "xarray"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {"version": versions["darkportal"], "versions": versions, "git_revision": git_revision(),
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


# ------------------------------------------------------------------------------------------- summaries
def weighted_quantiles(x: np.ndarray, weights: np.ndarray, q: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Quantiles of weighted samples: linear interpolation of the mid-point weighted CDF."""
    order = np.argsort(x)
    xs, ws = x[order], weights[order] / np.sum(weights)
    cdf = np.cumsum(ws) - 0.5 * ws
    return np.interp(q, cdf, xs)


def compute_summary(output: SamplerOutput, posterior: xr.DataTree | None = None) -> list[dict[str, Any]]:
    """One row per parameter: mean, sd, median, 68 % and 95 % intervals, R-hat and ESS where they apply.

    Weighted (nested / scan) runs: weighted moments and quantiles of the raw samples, ESS = Kish's
    effective sample size, no R-hat.  MCMC runs with several chains: ArviZ's rank-normalised R-hat and
    bulk / tail ESS over the walkers.
    """
    w = output.weights / np.sum(output.weights)
    mcmc = output.chains > 1 and posterior is not None
    if mcmc:
        import arviz as az

        assert posterior is not None
        rhat = az.rhat(posterior["posterior"])
        ess_b = az.ess(posterior["posterior"], method="bulk")
        ess_t = az.ess(posterior["posterior"], method="tail")
    kish = float(1.0 / np.sum(w**2))
    rows = []
    for j, name in enumerate(output.names):
        x = output.samples[:, j]
        mean = float(np.sum(w * x))
        q = weighted_quantiles(x, w, QUANTILES)
        row: dict[str, Any] = {"parameter": name, "mean": mean, "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                               "median": q[2], "q2.5": q[0], "q16": q[1], "q84": q[3], "q97.5": q[4],
                               "r_hat": np.nan, "ess_bulk": kish, "ess_tail": np.nan}
        if mcmc:
            row.update(r_hat=float(rhat[name]), ess_bulk=float(ess_b[name]), ess_tail=float(ess_t[name]))
        rows.append({k: (float(v) if k != "parameter" else v) for k, v in row.items()})
    return rows


def print_summary_table(summary: list[dict[str, Any]]) -> str:
    """The summary as a fixed-width text table for the CLI."""
    head = f"{'parameter':<12} {'mean':>11} {'median':>11} {'68% interval':>25} {'95% interval':>25} " \
           f"{'R-hat':>6} {'ESS':>7}"
    lines = [head, "-" * len(head)]
    for r in summary:
        rhat = "-" if not np.isfinite(r["r_hat"]) else f"{r['r_hat']:.3f}"
        ess = "-" if not np.isfinite(r["ess_bulk"]) else f"{r['ess_bulk']:.0f}"
        lines.append(f"{r['parameter']:<12} {r['mean']:>11.4g} {r['median']:>11.4g} "
                     f"{'[' + format(r['q16'], '.4g') + ', ' + format(r['q84'], '.4g') + ']':>25} "
                     f"{'[' + format(r['q2.5'], '.4g') + ', ' + format(r['q97.5'], '.4g') + ']':>25} "
                     f"{rhat:>6} {ess:>7}")
    return "\n".join(lines)


def _summary_csv(summary: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in summary:
        writer.writerow({k: (row[k] if k == "parameter" else repr(float(row[k]))) for k in SUMMARY_COLUMNS})
    return buf.getvalue()


# ------------------------------------------------------------------------------------------- posterior
def _draw_indices(output: SamplerOutput, seed: int) -> np.ndarray:
    """Indices of equally weighted draws: identity for MCMC, systematic resampling otherwise."""
    n = len(output.weights)
    if np.allclose(output.weights, 1.0 / n):
        return np.arange(n)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 6]))
    positions = (rng.random() + np.arange(n)) / n
    cdf = np.cumsum(output.weights / np.sum(output.weights))
    cdf[-1] = 1.0
    return np.searchsorted(cdf, positions, side="right")


def build_datatree(output: SamplerOutput, blobs: dict[str, np.ndarray], seed: int,
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
    for key, values in blobs.items():
        if len(values) != len(output.samples):
            raise ValueError(f"blob {key!r} has {len(values)} rows, the samples {len(output.samples)}")
        prefix, _, name = key.replace("/", "_").partition(":")  # "/" would make a netCDF group
        group = {"logl": "log_likelihood", "pred": "posterior_predictive"}.get(prefix)
        groups.setdefault(group or "posterior_predictive", {})[name if group else key] = drawn(values)
    dt = az.from_dict(groups)
    dt["sample_stats"].ds = dt["sample_stats"].ds.assign(
        logz=output.logz, logz_err=np.nan if output.logz_err is None else output.logz_err)
    raw = {n: ("sample", output.samples[:, j]) for j, n in enumerate(output.names)}
    raw.update(weights=("sample", output.weights), logl=("sample", output.logl))
    dt["weighted_samples"] = xr.DataTree(xr.Dataset(raw))
    dt.attrs.update({k: json.dumps(_jsonable(v)) if isinstance(v, dict | list) else v for k, v in attrs.items()})
    return dt


# ---------------------------------------------------------------------------------------- write / read
def write_results(outdir: Path, output: SamplerOutput, blobs: dict[str, np.ndarray],
                  resolved_config: dict[str, Any], provenance: dict[str, Any], *, force: bool = False) -> Path:
    """Write every results file atomically, then the COMPLETE marker; return the folder."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if (outdir / COMPLETE).exists():
        if not force:
            raise ResultsExistError(f"{outdir} already holds a finished run; use --force to overwrite it")
        (outdir / COMPLETE).unlink()
    seed = int(provenance.get("seed", 0) or 0)
    prov = _jsonable({**provenance, "format_version": FORMAT_VERSION, "sampler": output.sampler
                      or provenance.get("sampler"), "sampler_info": output.info, "written_at": _now()})
    dt = build_datatree(output, blobs, seed, {"format_version": FORMAT_VERSION, "provenance": prov})
    tmp = outdir / ".posterior.nc.tmp"
    dt.to_netcdf(tmp, engine="h5netcdf")
    os.replace(tmp, outdir / "posterior.nc")
    summary = compute_summary(output, dt)
    atomic_write_text(outdir / "summary.csv", _summary_csv(summary))
    evidence = {"format_version": FORMAT_VERSION, "sampler": output.sampler, "logz": output.logz,
                "logz_err": output.logz_err, "logz_resampled": output.logz_resampled,
                "logz_resampled_std": float(np.std(output.logz_resampled, ddof=1))
                if len(output.logz_resampled) > 1 else None,
                "kish_ess": float(1.0 / np.sum((output.weights / np.sum(output.weights)) ** 2)),
                **{k: output.info.get(k) for k in ("ncall", "niter", "efficiency", "stop_reason", "evidence_method",
                                                   "logz_batch_err", "logz_nested", "logz_err_nested")}}
    atomic_write_text(outdir / "evidence.json", json.dumps(_jsonable(evidence), indent=2) + "\n")
    atomic_write_text(outdir / "run.yaml", _dump_yaml(resolved_config))
    atomic_write_text(outdir / "provenance.json", json.dumps(prov, indent=2) + "\n")
    marker = {"format_version": FORMAT_VERSION, "files": list(RESULT_FILES), "written_at": _now()}
    atomic_write_text(outdir / COMPLETE, json.dumps(marker) + "\n")
    log.info("results written to %s", outdir)
    return outdir


def read_results(outdir: Path) -> Results:
    """Read a finished run; refuse an unfinished folder or another format version with a clear message."""
    outdir = Path(outdir)
    if not (outdir / COMPLETE).exists():
        raise IncompleteResultsError(
            f"{outdir} holds no finished run (no {COMPLETE} marker): the run was interrupted or is still "
            "running; continue it with `darkportal run RUN.yaml --resume`")
    marker = json.loads((outdir / COMPLETE).read_text(encoding="utf-8"))
    prov = json.loads((outdir / "provenance.json").read_text(encoding="utf-8"))
    for where, version in ((COMPLETE, marker.get("format_version")), ("provenance.json",
                                                                      prov.get("format_version"))):
        if version != FORMAT_VERSION:
            raise FormatVersionError(
                f"{outdir / where} is results format version {version}, this darkportal reads version "
                f"{FORMAT_VERSION}; re-run the job with this version or read it with the darkportal "
                f"version that wrote it ({prov.get('version', 'unknown')})")
    with xr.open_datatree(outdir / "posterior.nc", engine="h5netcdf") as dt:
        posterior = dt.load()
    with open(outdir / "summary.csv", encoding="utf-8", newline="") as fh:
        summary = [{k: (v if k == "parameter" else float(v)) for k, v in row.items()}
                   for row in csv.DictReader(fh)]
    evidence = json.loads((outdir / "evidence.json").read_text(encoding="utf-8"))
    config = yaml.safe_load((outdir / "run.yaml").read_text(encoding="utf-8")) or {}
    return Results(outdir, posterior, summary, evidence, prov, config)
