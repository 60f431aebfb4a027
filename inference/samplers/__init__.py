"""Sampler adapters: one module per backend, no physics inside.

`SAMPLERS` is the one registry of the samplers: name -> the module of its adapter. Each adapter module is a
`Sampler`: its `DEFAULTS` (every setting it knows, with its default value, stated there once) and its
`run(problem, settings, outdir, seed, pool, resume)` returning a `SamplerOutput`. The run file's `sampler:`
section (``inference.config.sections``) and `run_sampler` both read this registry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from inference.samplers.pool import PoolHandle, make_pool
from inference.samplers.problem import FloatArray, SampleExtras, SamplingProblem
from physics.errors import DarkportalError, closest, did_you_mean

log = logging.getLogger(__name__)

#: the registry: sampler name -> module of its adapter (a `Sampler`), imported only when used
SAMPLERS: dict[str, str] = {
    "dynesty": "inference.samplers.dynesty_backend",
    "emcee": "inference.samplers.emcee_backend",
    "scan": "inference.samplers.scan_backend",
}
SAMPLER_NAMES: tuple[str, ...] = tuple(SAMPLERS)


class SamplerSettingsError(DarkportalError, ValueError):
    """A sampler setting is unknown or has a bad value; ``sampler`` and ``key`` name it where known."""

    def __init__(self, message: str, *, sampler: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.sampler, self.key = sampler, key


class StopKind(Enum):
    """Why a sampler stopped. Only `CONVERGED` (its own stopping rule was met) and `REWEIGHTED` (a finished run
    reweighted, which is as converged as the run it came from) count as converged; the others are caps."""

    CONVERGED = "converged"
    ITERATION_CAP = "iteration cap"  # dynesty: maxiter / maxcall reached before dlogz
    STEP_CAP = "step cap"  # emcee: max_steps reached before the convergence gate passed
    TIME_CAP = "time cap"  # emcee: max_time reached before the convergence gate passed
    CALL_CAP = "call cap"  # scan: max_calls reached before n_eff
    REWEIGHTED = "reweighted"

    @property
    def converged(self) -> bool:
        return self in (StopKind.CONVERGED, StopKind.REWEIGHTED)


@dataclass(frozen=True)
class StopReason:
    """Why a run stopped: the `kind` the code decides on and a sentence for people (`text`)."""

    kind: StopKind
    text: str

    @property
    def converged(self) -> bool:
        return self.kind.converged

    def as_record(self) -> dict[str, Any]:
        """The keys written to evidence.json and provenance.json's sampler_info."""
        return {"stop_reason": self.text, "stop_kind": self.kind.value, "converged": self.converged}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StopReason | None:
        """The stop reason of an evidence.json / sampler_info record; None when it states none.

        Records written before ``stop_kind`` existed (same format version) carry only the sentence and, for
        emcee, ``converged``: their kind is read from the sentences those versions wrote (the only place
        the text is read)."""
        text = record.get("stop_reason")
        if text is None:
            return None
        text = str(text)
        if record.get("stop_kind") is not None:
            return cls(StopKind(record["stop_kind"]), text)
        return cls(_legacy_kind(text, record.get("converged")), text)


#: what a run that states no reason is taken to have done (as the readers have always taken it)
FINISHED = StopReason(StopKind.CONVERGED, "the sampler finished")


def _legacy_kind(text: str, converged: Any) -> StopKind:
    """The kind of a stop sentence written before stop_kind was recorded (module history: each cap sentence
    held "NOT" or began "stopped at")."""
    capped = converged is False or "NOT" in text or text.startswith("stopped at")
    if not capped:
        return StopKind.REWEIGHTED if text.startswith("importance reweighting of") else StopKind.CONVERGED
    for kind, mark in ((StopKind.STEP_CAP, "step cap"), (StopKind.TIME_CAP, "time cap"),
                       (StopKind.CALL_CAP, "max_calls")):
        if mark in text:
            return kind
    return StopKind.ITERATION_CAP


@dataclass
class SamplerOutput:
    """What every adapter returns.

    samples (n, d) and logl (n,) are the raw output; weights (n,) are normalised (1/n for MCMC).
    For MCMC, `chains` > 1 means the rows are chain-major: samples.reshape(chains, n // chains, d).
    logz / logz_err: ln evidence and its error (NaN / None where the sampler gives none).
    logz_resampled: ln Z of re-simulated runs (dynesty) or of bootstrap batches (scan).
    stop: why the sampler stopped (`stop.converged` is what the code decides on).
    info: ncall, niter, efficiency, autocorr times, wall_time, settings, ...
    per_sample: further arrays with one entry per sample, stored beside the weights (nested sampling:
    logl_birth, nlive, log_volume, what a nested-sampling post-processor such as anesthetic needs).
    """

    names: tuple[str, ...]
    samples: FloatArray
    weights: FloatArray
    logl: FloatArray
    logz: float
    logz_err: float | None
    info: dict[str, Any] = field(default_factory=dict)
    logz_resampled: list[float] = field(default_factory=list)
    chains: int = 1
    sampler: str = ""
    per_sample: dict[str, FloatArray] = field(default_factory=dict)
    stop: StopReason = FINISHED

    @property
    def converged(self) -> bool:
        return self.stop.converged


class Sampler(Protocol):
    """What an adapter module provides (each ``inference.samplers.<name>_backend`` module is one)."""

    #: every setting the adapter knows, with its default: the one place each default is stated
    DEFAULTS: dict[str, Any]
    #: the settings a resumed run may change: they steer when to stop or how often to save, not what the
    #: checkpoint has already sampled (``inference.output.rundir`` compares the others with the lock file)
    RESUMABLE: frozenset[str]

    def run(self, problem: SamplingProblem, settings: dict[str, Any], outdir: Path, seed: int,
            pool: PoolHandle | None, resume: bool) -> SamplerOutput:
        """Run (or resume) the sampler on `problem`, checkpointing into `outdir`."""
        ...


def sampler(name: str) -> Sampler:
    """The adapter of sampler `name` from the registry; an unknown name raises `SamplerSettingsError`."""
    import importlib

    if name not in SAMPLERS:
        raise SamplerSettingsError(f"unknown sampler {name!r}{did_you_mean(name, SAMPLER_NAMES)}; choose one of "
                                   f"{', '.join(SAMPLER_NAMES)}", sampler=name)
    module: Sampler = importlib.import_module(SAMPLERS[name])
    return module


def sampler_defaults(name: str) -> dict[str, Any]:
    """A copy of the `DEFAULTS` of sampler `name` (what a run file's settings are overlaid on)."""
    return dict(sampler(name).DEFAULTS)


def check_settings(sampler: str, settings: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `settings`; unknown keys raise `SamplerSettingsError` with a suggestion."""
    unknown = [k for k in settings if k not in defaults]
    if unknown:
        key = unknown[0]
        close = closest(key, defaults)
        hint = f" Did you mean {close!r}?" if close is not None else ""
        raise SamplerSettingsError(
            f"unknown {sampler} setting {key!r}.{hint} Known settings: {', '.join(sorted(defaults))}",
            sampler=sampler, key=key)
    return {**defaults, **settings}


def run_sampler(name: str, problem: SamplingProblem, settings: Mapping[str, Any], outdir: Path, seed: int,
                pool: str | PoolHandle | None = None, resume: bool = False) -> SamplerOutput:
    """Run sampler `name` on `problem`, checkpointing into `outdir`.

    pool: None (serial), "processes", "mpi", or an already open `PoolHandle` (needed for MPI, where the
    caller must keep worker ranks out of the sampling; see `inference.samplers.pool`).
    resume: continue from the checkpoint in `outdir` (dynesty.save, chain.h5 or scan.npz).
    """
    runner = sampler(name).run
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if isinstance(pool, PoolHandle) or pool is None:
        out = runner(problem, dict(settings), outdir, seed, pool, resume)
    else:
        with make_pool(pool) as handle:
            if not handle.is_master:
                # An MPI worker rank has served rank 0 until it finished; it has no result to return
                # (the same convention as schwimmbad's MPIPool workers).
                log.debug("MPI worker rank done")
                raise SystemExit(0)
            out = runner(problem, dict(settings), outdir, seed, handle, resume)
    out.sampler = name
    return out


def compute_blobs(problem: SamplingProblem, samples: FloatArray, batch: int = 2048) -> SampleExtras:
    """Evaluate `problem.blobs` on the rows of `samples` in vectorised batches (empty without blobs)."""
    if problem.blobs is None or len(samples) == 0:
        return SampleExtras()
    from inference.samplers.progress import Progress

    progress = Progress("predictions for the samples", total=len(samples), unit="samples", every=5.0)
    parts: list[SampleExtras] = []
    for start in range(0, len(samples), batch):
        parts.append(problem.blobs(samples[start:start + batch]))
        progress.update(min(start + batch, len(samples)))
    progress.close()
    return SampleExtras.concatenate(parts)
