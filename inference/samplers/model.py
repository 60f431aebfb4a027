"""From a run configuration to a :class:`~inference.samplers.problem.SamplingProblem`.

The callables are instances of module-level classes, so they pickle for process and MPI pools and into
dynesty's checkpoint file. Parameter vectors are in the run file's (paper) units; the conversion to
``physics.ModelParams`` happens in ``RunConfig.to_params``.
"""

from __future__ import annotations

import dataclasses
import pickle
from functools import cached_property
from typing import Any

import numpy as np

from inference.config.runfile import RunConfig
from inference.samplers.problem import SampleExtras, SamplingProblem
from likelihoods import JointLikelihood
from likelihoods.compiled import CompiledLoglike
from physics.jit import jit
from physics.params import PAPER_UNIT_FACTORS, PARAM_NAMES
from priors import Uniform

FloatArray = np.ndarray

#: softening width of the scan pilot's smooth version of the cuts (likelihoods.terms): a cut missed by d
#: costs -1/2 (d / scale)^2, so the pilot is -1/2 x the summed squared violations in units of each cut's scale
PILOT_SOFTENING = 1.0

# Unmeasured decays and derived quantities stored for every posterior sample (beside the likelihood's own
# observables), so that predictions and the paper's Fig. 3 need no recomputation.
POSTERIOR_PREDICTIONS = (
    "BR(K+->pi+nunu)", "BR(KL->pi0nunu)", "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)",
    "BR(Bs->invisible)", "BR(Bs->nuDnuD)", "BR(Bs->nunu)", "BR(B+->K+S)", "BR(B0->K*0S)", "BR(K+->pi+S)",
    "BR(KL->pi0S)", "BR(KL->pi0gammagamma)", "BR(KS->pi0gammagamma)", "BR(K+->pi+gammagamma)",
    "Delta_a_mu", "Delta_a_e", "R_MiniBooNE", "R_CHARMII", "ctau_S", "BR(S->gammagamma)", "BR(S->ee)",
    "BR(S->nunu)", "Re(g_sd)", "Im(g_sd)", "|g_bs|", "g_Sp", "g_Sn",
)


class RunModel:
    """Prior and likelihood of one run, as picklable vectorised callables."""

    def __init__(self, config: RunConfig):
        self.config = config

    @cached_property
    def likelihood(self) -> JointLikelihood:
        lk = self.config.likelihood
        return JointLikelihood.from_config(lk.data, lk.mode, softening=lk.softening or 0.0,
                                           overrides=lk.terms, options=self.config.theory.theory_options(),
                                           extra_entries=lk.extra_entries)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pool workers receive the model with every task (dynesty sends its likelihood along with each
        # proposal): send the configuration as bytes pickled once, and let each worker rebuild the model
        # (likelihood, fast-path plan) once and reuse it for every later task with the same bytes.
        return (_restore_model, (self._config_blob,))

    def warm_up(self) -> None:
        """Build everything a likelihood call needs now (tables, fast-path plan, compiled code loaded or compiled)
        and register this model as the one worker processes reuse: call before starting a process pool, whose
        forked workers then inherit it instead of building their own on their first task."""
        u = np.full((1, len(self.names)), 0.5)
        x = self.prior_transform(u)
        self.point_prior_transform(u[0])
        self.log_likelihood(np.repeat(x, 2, axis=0))
        self.point_log_likelihood(x[0])
        _WORKER_MODELS.clear()
        _WORKER_MODELS[self._config_blob] = self

    @cached_property
    def _config_blob(self) -> bytes:
        return pickle.dumps(self.config, protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.config.priors.names)

    def prior_transform(self, u: FloatArray) -> FloatArray:
        """Unit cube -> parameters (paper units). One point with only uniform priors: the arithmetic of
        ``Uniform.ppf`` in one call of :func:`_uniform_box_point` (dynesty calls this once per proposal);
        else ``PriorSet.ppf``."""
        u = np.asarray(u, dtype=float)
        box = self._columns.uniform
        if box is not None and u.shape == (1, box.shape[0]):
            out = np.empty_like(u)
            if _uniform_box_point(u[0], box, out[0]):
                return out
        return np.asarray(self.config.priors.ppf(u), dtype=float)

    def point_prior_transform(self, u: FloatArray) -> FloatArray:
        """Unit cube -> parameters for one point u of shape (ndim,), as dynesty calls it: :meth:`prior_transform`
        without the reshaping where every prior is uniform."""
        box = self._columns.uniform
        if box is not None and u.shape == (box.shape[0],) and u.dtype == np.float64:
            out = np.empty(box.shape[0])
            if _uniform_box_point(u, box, out):
                return out
        return np.asarray(self.prior_transform(np.asarray(u, dtype=float)[None, :]), dtype=float)[0]

    def log_prior(self, x: FloatArray) -> FloatArray:
        """Log prior density of the rows of x. With only uniform priors, one box test and the constant density
        (the sum of the Uniform.logpdf terms): emcee asks for the prior of every proposal, and the loop over
        eight prior objects cost ~0.4 ms per call, more than the compiled likelihood."""
        box = self._columns.uniform
        x = np.asarray(x, dtype=float)
        if box is None or x.ndim != 2:
            return np.asarray(self.config.priors.logpdf(x), dtype=float)
        inside = np.all((x >= box[:, 0]) & (x <= box[:, 2]), axis=1)
        return np.where(inside, self._columns.log_box_density, -np.inf)

    @cached_property
    def _columns(self) -> _Columns:
        return _Columns(self.config)

    def log_likelihood(self, x: FloatArray) -> FloatArray:
        """Total log-likelihood at the rows of x (paper units): ``JointLikelihood.logpdf`` through the run's
        column map (the physics kernel where it covers the terms, else the reference)."""
        return self.likelihood.logpdf(np.asarray(x, dtype=float), columns=self._columns.spec)

    def point_log_likelihood(self, x: FloatArray) -> float:
        """log L at one point x of shape (ndim,) (paper units), as dynesty calls it: one kernel call where the
        likelihood has a kernel path, else :meth:`log_likelihood`. Never NaN or +inf (those points go to the
        reference path, which raises naming the point)."""
        kernel_path = self._kernel_path
        if kernel_path is not None and x.shape == (self._columns.ndim,) and x.dtype == np.float64:
            value = kernel_path.point(x)
            if value == value and value != np.inf:
                return value
        return float(self.log_likelihood(np.asarray(x, dtype=float)[None, :])[0])

    @cached_property
    def _kernel_path(self) -> CompiledLoglike | None:
        return self.likelihood.kernel_path(*self._columns.spec)

    def reference_log_likelihood(self, x: FloatArray) -> FloatArray:
        """The straightforward path: ``to_params`` -> ``physics.predict`` -> every term (for tests and checks)."""
        return np.asarray(self.likelihood.evaluate(self.config.to_params(x))[0], dtype=float)

    def blobs(self, x: FloatArray) -> SampleExtras:
        """Per-term log-likelihoods and SM + NP predictions (NaN outside the physics domain) at the rows of x."""
        _, terms, preds = self.likelihood.evaluate(self.config.to_params(x), extra=POSTERIOR_PREDICTIONS)
        return SampleExtras(term_logl={k: np.asarray(v, dtype=float) for k, v in terms.items()},
                            predictions={k: np.asarray(pr.total, dtype=float) for k, pr in preds.items()})

    @cached_property
    def pilot_model(self) -> RunModel | None:
        """The same run with the cuts softened to width PILOT_SOFTENING (cuts mode only, else None): the smooth
        version of the problem the scan sampler's pilot tempers on (inference.samplers.scan_pilot)."""
        lk = self.config.likelihood
        if lk.mode != "cuts":
            return None
        return RunModel(dataclasses.replace(self.config, likelihood=dataclasses.replace(lk, softening=PILOT_SOFTENING)))

    def pilot_log_likelihood(self, x: FloatArray) -> FloatArray:
        """log L of :attr:`pilot_model` at the rows of x (cuts mode only)."""
        pilot = self.pilot_model
        if pilot is None:
            raise ValueError(f"run {self.config.name}: a pilot likelihood exists in cuts mode only")
        return pilot.log_likelihood(x)

    def problem(self) -> SamplingProblem:
        pilot = _Method(self, "pilot_log_likelihood") if self.config.likelihood.mode == "cuts" else None
        return SamplingProblem(names=self.names, prior_transform=_Method(self, "prior_transform"),
                               log_prior=_Method(self, "log_prior"), log_likelihood=_Method(self, "log_likelihood"),
                               blobs=_Method(self, "blobs"),
                               point_log_likelihood=_PointMethod(self, "point_log_likelihood"),
                               point_prior_transform=_PointMethod(self, "point_prior_transform"),
                               pilot_log_likelihood=pilot)


@jit
def _uniform_box_point(u: FloatArray, box: FloatArray, out: FloatArray) -> bool:
    """Uniform.ppf of each u[i] with box rows (min, width, max), written to out; False if some u[i] lies
    outside [0, 1] (then the caller takes the path that raises). Compiled where the kernel is enabled."""
    for i in range(u.size):
        v = u[i]
        if not 0.0 <= v <= 1.0:
            return False
        lo, w, hi = box[i, 0], box[i, 1], box[i, 2]
        out[i] = hi if v >= 1.0 else min(max(lo + v * w, lo), hi)
    return True


class _Columns:
    """Sampler vectors (paper units, free parameters) -> physics parameter rows (GeV units, PARAM_NAMES order):
    the arithmetic of ``RunConfig.to_params`` (value times the paper-unit factor, fixed values filled) as the
    column map of the kernel path (likelihoods.compiled), and the uniform box of the priors."""

    def __init__(self, config: RunConfig):
        free = {n: i for i, n in enumerate(config.priors.names)}
        fixed = config.priors.fixed
        self.ndim = len(free)
        priors = [config.priors[n] for n in config.priors.names]
        # (min, width, max) per column, as Uniform stores them
        self.uniform = (np.array([(lo, hi - lo, hi) for lo, hi in (p.support for p in priors)], dtype=np.float64)
                        if all(type(p) is Uniform for p in priors) else None)
        self.log_box_density = (float(np.sum([p.logpdf(np.array([p.support[0]]))[0] for p in priors]))
                                if self.uniform is not None else float("nan"))
        # the column map (index, factor, constant per physics parameter) of likelihoods.compiled
        rows = [(free.get(n, -1), PAPER_UNIT_FACTORS[n], fixed.get(n, 0.0) * PAPER_UNIT_FACTORS[n])
                for n in PARAM_NAMES]
        self.spec: tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]] = tuple(  # type: ignore[assignment]
            zip(*rows, strict=True))


class _PointMethod:
    """Like :class:`_Method` for a method of one point (ndim,) -> float (no reshaping). The bound method is
    looked up once (dynesty calls this ~3e5 times per run) and left out of the pickled state."""

    def __init__(self, owner: RunModel, name: str):
        self.owner = owner
        self.name = name
        self._bound = getattr(owner, name)

    def __call__(self, x: FloatArray) -> Any:
        return self._bound(x)

    def __getstate__(self) -> dict[str, Any]:
        return {"owner": self.owner, "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["owner"], state["name"])  # type: ignore[misc]


_WORKER_MODELS: dict[bytes, RunModel] = {}


def _restore_model(blob: bytes) -> RunModel:
    """Unpickle a RunModel, reusing the one this process already built from the same configuration."""
    model = _WORKER_MODELS.get(blob)
    if model is None:
        model = RunModel(pickle.loads(blob))
        _WORKER_MODELS.clear()  # one run at a time per process: keep only the latest model
        _WORKER_MODELS[blob] = model
    return model


class _Method:
    """A picklable bound method (pickle handles these, but an explicit class keeps dynesty's checkpoint
    independent of how the Python version pickles bound methods of objects with cached properties)."""

    def __init__(self, owner: RunModel, name: str):
        self.owner = owner
        self.name = name

    def __call__(self, x: FloatArray) -> Any:
        return getattr(self.owner, self.name)(np.atleast_2d(np.asarray(x, dtype=float)))
