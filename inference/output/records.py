"""Typed, frozen records of what a results folder holds: `Evidence` (evidence.json) and `Provenance`
(provenance.json). `inference.output.results.Results` carries one of each.

Each record is read from its JSON text with ``from_json`` and written with ``as_json``: the keys of the file
are the field names below (``Evidence.stop`` is written as ``stop_reason``, ``stop_kind`` and ``converged``).
Keys a record does not know are kept in ``extra`` (provenance) so that reading and writing again loses
nothing; keys an older file of the same format version lacks read as None.

evidence.json (`Evidence`):

    format_version      int           results format version (`FORMAT_VERSION`)
    sampler             str | None    "dynesty", "emcee", "scan" or "reweight"
    logz                float         ln Z (NaN where the sampler gives none: emcee; JSON null)
    logz_err            float | None  its error as the sampler quotes it
    logz_resampled      tuple[float]  ln Z of re-simulated runs (dynesty) or bootstrap batches (scan)
    logz_resampled_std  float | None  their spread (a diagnostic, not an error of ln Z)
    kish_ess            float | None  Kish's effective sample size of the weights
    ncall, niter        int | None    likelihood calls and iterations
    efficiency          float | None  accepted / proposed
    stop                StopReason | None   why the sampler stopped (None: the file states no reason)
    evidence_method     str | None    "nested sampling", "nested sampling + importance refinement", ...
    logz_batch_err      float | None  importance refinement: spread of its batches (a check)
    logz_nested, logz_err_nested  float | None  importance refinement: the nested run's own ln Z and error

provenance.json (`Provenance`):

    format_version      int           results format version
    version             str | None    darkportal's version
    versions            Mapping[str, str]   versions of darkportal and the main libraries
    environment         Mapping[str, Any]   the interpreter, platform and every installed package
    git_revision        str | None    `git rev-parse HEAD` (+dirty), or "unknown"
    seed                int | None    the run's seed
    sampler             str | None    the sampler's name
    sampler_settings    Mapping[str, Any]   the resolved sampler settings
    sampler_info        Mapping[str, Any]   what the sampler reported (calls, times, diagnostics, stop reason)
    measurement_set     str | None    the likelihood's data set
    started_at, written_at  str | None    ISO 8601 UTC times
    extra               Mapping[str, Any]   every other key (run_file, likelihood_mode, theory_options,
                                            wall_time_s, reweighted_from, reweighting, ...)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from inference.samplers import StopReason


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Evidence:
    """The evidence record of a finished run (evidence.json; schema in the module docstring)."""

    format_version: int
    sampler: str | None
    logz: float
    logz_err: float | None = None
    logz_resampled: tuple[float, ...] = ()
    logz_resampled_std: float | None = None
    kish_ess: float | None = None
    ncall: int | None = None
    niter: int | None = None
    efficiency: float | None = None
    stop: StopReason | None = None
    evidence_method: str | None = None
    logz_batch_err: float | None = None
    logz_nested: float | None = None
    logz_err_nested: float | None = None

    @property
    def has_logz(self) -> bool:
        """Whether the run estimated ln Z (dynesty, scan, reweighted runs; not emcee)."""
        return math.isfinite(self.logz)

    @property
    def converged(self) -> bool:
        """The sampler's stopping rule was met (a record that states no reason counts as converged)."""
        return self.stop is None or self.stop.converged

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Evidence:
        """The record of an evidence.json mapping (already checked by the reader)."""
        logz = record.get("logz")
        return cls(format_version=int(record.get("format_version") or 0), sampler=_str(record.get("sampler")),
                   logz=math.nan if logz is None else float(logz), logz_err=_float(record.get("logz_err")),
                   logz_resampled=tuple(float(v) for v in record.get("logz_resampled") or () if v is not None),
                   logz_resampled_std=_float(record.get("logz_resampled_std")),
                   kish_ess=_float(record.get("kish_ess")), ncall=_int(record.get("ncall")),
                   niter=_int(record.get("niter")), efficiency=_float(record.get("efficiency")),
                   stop=StopReason.from_record(record), evidence_method=_str(record.get("evidence_method")),
                   logz_batch_err=_float(record.get("logz_batch_err")),
                   logz_nested=_float(record.get("logz_nested")),
                   logz_err_nested=_float(record.get("logz_err_nested")))

    def as_json(self) -> dict[str, Any]:
        """The mapping written to evidence.json (NaN is written as null by the writer)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "stop":
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        if self.stop is not None:
            out.update(self.stop.as_record())
        return out


#: the keys of provenance.json that `Provenance` has a field for (all others go to `extra`)
_PROVENANCE_FIELDS = ("format_version", "version", "versions", "environment", "git_revision", "seed", "sampler",
                      "sampler_settings", "sampler_info", "measurement_set", "started_at", "written_at")


@dataclass(frozen=True)
class Provenance:
    """The provenance record of a finished run (provenance.json; schema in the module docstring)."""

    format_version: int
    version: str | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    git_revision: str | None = None
    seed: int | None = None
    sampler: str | None = None
    sampler_settings: Mapping[str, Any] = field(default_factory=dict)
    sampler_info: Mapping[str, Any] = field(default_factory=dict)
    measurement_set: str | None = None
    started_at: str | None = None
    written_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Provenance:
        """The record of a provenance.json mapping."""
        return cls(format_version=int(record.get("format_version") or 0), version=_str(record.get("version")),
                   versions=dict(record.get("versions") or {}), environment=dict(record.get("environment") or {}),
                   git_revision=_str(record.get("git_revision")), seed=_int(record.get("seed")),
                   sampler=_str(record.get("sampler")), sampler_settings=dict(record.get("sampler_settings") or {}),
                   sampler_info=dict(record.get("sampler_info") or {}),
                   measurement_set=_str(record.get("measurement_set")), started_at=_str(record.get("started_at")),
                   written_at=_str(record.get("written_at")),
                   extra={k: v for k, v in record.items() if k not in _PROVENANCE_FIELDS})

    def as_json(self) -> dict[str, Any]:
        """The mapping of provenance.json (the known keys, then `extra`)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in _PROVENANCE_FIELDS}
        for key in ("versions", "environment", "sampler_settings", "sampler_info"):
            out[key] = dict(out[key])
        return {**out, **self.extra}
