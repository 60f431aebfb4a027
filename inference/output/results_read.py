"""Reading a results folder back: every file checked, a missing, damaged or foreign one refused with a
:class:`~inference.output.results.ResultsFileError` naming the file and the fix (issue 12).

Nothing is unpickled or executed: netCDF (h5netcdf), CSV, JSON and YAML through the run-file loader's limits.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import xarray as xr

from inference.output.records import Evidence, Provenance
from inference.output.results import (
    CHECKPOINTS,
    COMPLETE,
    FORMAT_VERSION,
    LOCK,
    MAX_TEXT_BYTES,
    FormatVersionError,
    IncompleteResultsError,
    Results,
    ResultsFileError,
)
from inference.output.summary import MCMC_COLUMNS, MOMENT_COLUMNS, WEIGHTED_COLUMNS, Summary, SummaryRow
from inference.samplers import StopKind
from inference.samplers.checkpoint_auth import hdf5_reason


def load_small_yaml(path: Path, what: str) -> dict[str, Any]:
    """A YAML mapping from a results folder, read with the run-file loader's limits (no alias bombs)."""
    from inference.config.strict_yaml import read_yaml
    from inference.errors import RunConfigError

    try:
        data, _ = read_yaml(path)
    except RunConfigError as exc:
        raise ResultsFileError(path, f"{what} cannot be read ({exc.problem})", _rerun_fix(path.parent)) from None
    if not isinstance(data, dict):
        raise ResultsFileError(path, f"{what} is not a mapping", _rerun_fix(path.parent))
    return data


def _rerun_fix(outdir: Path) -> str:
    return (f"the folder was changed or damaged after the run wrote it; run the job again into it with "
            f"'darkportal run RUN.yaml --force --out {outdir}' (or ask whoever shared it for an intact copy)")


def _read_text(path: Path, what: str) -> str:
    outdir = path.parent
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ResultsFileError(path, f"{what} is {size:,} bytes, far more than darkportal writes",
                                   _rerun_fix(outdir))
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(path, f"{what} is missing although the folder is marked {COMPLETE}",
                               _rerun_fix(outdir)) from None
    except UnicodeDecodeError:
        raise ResultsFileError(path, f"{what} is not UTF-8 text", _rerun_fix(outdir)) from None
    except IsADirectoryError:
        raise ResultsFileError(path, f"{what} is a folder, not a file", _rerun_fix(outdir)) from None
    except OSError as exc:
        raise ResultsFileError(path, f"cannot read {what} ({exc.strerror})", "check the file's permissions") from None


def _read_json(path: Path, what: str) -> dict[str, Any]:
    text = _read_text(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ResultsFileError(path, f"{what} is not valid JSON (it breaks off or is garbled at {where})",
                               _rerun_fix(path.parent)) from None
    except RecursionError:
        raise ResultsFileError(path, f"{what} is nested too deeply to be darkportal's", _rerun_fix(path.parent)) \
            from None
    if not isinstance(data, dict):
        raise ResultsFileError(path, f"{what} holds {type(data).__name__}, not a JSON object",
                               _rerun_fix(path.parent))
    return data


def _read_summary(path: Path) -> Summary:
    rows = list(csv.DictReader(io.StringIO(_read_text(path, "the summary table"), newline="")))
    if not rows:
        raise ResultsFileError(path, "the summary table has no rows", _rerun_fix(path.parent))
    missing = [c for c in MOMENT_COLUMNS if c not in rows[0]]
    if missing:
        raise ResultsFileError(path, f"the summary table lacks the column(s) {', '.join(missing)}",
                               _rerun_fix(path.parent))
    out = []
    for i, row in enumerate(rows, start=2):
        parsed: dict[str, Any] = {}
        for key in (c for c in (*MOMENT_COLUMNS, *WEIGHTED_COLUMNS, *MCMC_COLUMNS) if c in row):
            value = row.get(key)
            if key == "parameter":
                parsed[key] = value
                continue
            try:
                parsed[key] = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ResultsFileError(path, f"line {i}, column {key!r}: {value!r} is not a number",
                                       _rerun_fix(path.parent)) from None
        out.append(SummaryRow.from_columns(parsed))
    return tuple(out)


def _check_evidence(path: Path, ev: dict[str, Any]) -> None:
    for key in ("logz", "logz_err", "logz_resampled_std"):
        v = ev.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ResultsFileError(path, f"{key!r} is {v!r}, not a number", _rerun_fix(path.parent))
    res = ev.get("logz_resampled")
    if res is not None and (not isinstance(res, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in res if v is not None)):
        raise ResultsFileError(path, "'logz_resampled' is not a list of numbers", _rerun_fix(path.parent))
    if ev.get("stop_reason") is not None and not isinstance(ev["stop_reason"], str):
        raise ResultsFileError(path, "'stop_reason' is not text", _rerun_fix(path.parent))
    kinds = [k.value for k in StopKind]
    if ev.get("stop_kind") is not None and ev["stop_kind"] not in kinds:
        raise ResultsFileError(path, f"'stop_kind' is {ev['stop_kind']!r}, not one of {', '.join(kinds)}",
                               _rerun_fix(path.parent))


def read_results(outdir: Path) -> Results:
    """Read a finished run; refuse an unfinished or foreign folder, another format version or a damaged file
    with a message naming the file and the fix."""
    outdir = Path(outdir)
    if not outdir.exists():
        raise IncompleteResultsError(f"{outdir} does not exist; give the results folder of a finished run, "
                                     "such as results/kappa_nonzero")
    if not outdir.is_dir():
        raise IncompleteResultsError(f"{outdir} is a file, not a results folder; give the folder a "
                                     "'darkportal run' wrote, such as results/kappa_nonzero")
    if not (outdir / COMPLETE).exists():
        unfinished = [f for f in (*CHECKPOINTS, LOCK) if (outdir / f).exists()]
        if unfinished:
            raise IncompleteResultsError(
                f"{outdir} holds no finished run (no {COMPLETE} marker, but {', '.join(unfinished)}): the run was "
                f"interrupted or is still running; continue it with 'darkportal run RUN.yaml --resume --out {outdir}'")
        raise IncompleteResultsError(
            f"{outdir} is not a darkportal results folder (no {COMPLETE} marker and no checkpoint); give the "
            "folder a finished 'darkportal run' wrote, such as results/kappa_nonzero")
    marker = _read_json(outdir / COMPLETE, f"the {COMPLETE} marker")
    prov = _read_json(outdir / "provenance.json", "the provenance record")
    for where, version in ((COMPLETE, marker.get("format_version")), ("provenance.json",
                                                                      prov.get("format_version"))):
        if version != FORMAT_VERSION:
            raise FormatVersionError(
                f"{outdir / where} is results format version {version}, this darkportal reads version "
                f"{FORMAT_VERSION}; re-run the job with this version or read it with the darkportal "
                f"version that wrote it ({prov.get('version', 'unknown')})")
    posterior = _read_posterior(outdir / "posterior.nc")
    summary = _read_summary(outdir / "summary.csv")
    evidence = _read_json(outdir / "evidence.json", "the evidence record")
    _check_evidence(outdir / "evidence.json", evidence)
    config = load_small_yaml(outdir / "run.yaml", "the resolved run file")
    return Results(outdir, posterior, summary, Evidence.from_json(evidence), Provenance.from_json(prov), config)


def _read_posterior(path: Path) -> xr.DataTree:
    if not path.is_file():
        raise ResultsFileError(path, f"the posterior file is missing although the folder is marked {COMPLETE}",
                               _rerun_fix(path.parent))
    try:
        with xr.open_datatree(path, engine="h5netcdf") as dt:
            posterior = dt.load()
    except Exception as exc:  # h5py / h5netcdf / xarray raise many kinds for a damaged file
        raise ResultsFileError(path, f"the posterior file cannot be read as netCDF ({hdf5_reason(exc)})",
                               _rerun_fix(path.parent)) from None
    for group in ("posterior", "weighted_samples", "sample_stats"):
        if group not in posterior.children:
            raise ResultsFileError(path, f"the posterior file has no {group!r} group", _rerun_fix(path.parent))
    return posterior
