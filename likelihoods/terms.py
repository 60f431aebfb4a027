"""Log-likelihood term kinds and their two evaluation modes.

Every term compares one number per parameter point, ``x`` (the SM + NP total or the NP part of one
observable, in the observable's unit), with one published result. A term knows its *cut* (the paper's
pass/fail condition, an interval [lo, hi] with possibly infinite ends) and its *statistical* form.

Kinds (``TERM_KINDS``) and what each mode does with them:

=====================  ===================================  =============================================
kind                   ``cuts`` mode (pass/fail)            ``gaussian`` mode (statistical)
=====================  ===================================  =============================================
gaussian               c - s <= x <= c + s  (1 sigma)       -1/2 ((x - c)/S)^2
asymmetric_gaussian    c - s_down <= x <= c + s_up          -1/2 ((x - c)/S_side)^2, continuous at x = c
upper_limit            x <= L                               half-normal at zero: -1/2 (max(x, 0)/S)^2
interval               lo <= x <= hi                        Gaussian, centre (lo+hi)/2, sigma (hi-lo)/2
hard_bound             lo <= x <= hi                        same hard step: 0 inside, -inf outside
=====================  ===================================  =============================================

Conventions (why):

* Upper limits: a limit L at confidence level CL is read as the CL-quantile of a half-normal likelihood
  centred at zero, P(|X| < L) = CL, so sigma = L / Phi^-1((1 + CL)/2); 90 % CL gives sigma = L/1.6449,
  68.27 % CL gives sigma = L. This is the natural reading of a limit with no excess observed (the true
  rate is >= 0 and the experiment is compatible with zero), and it reproduces L exactly as the CL
  point of the likelihood. Below zero (never reached by a branching ratio) the term is flat.
* In ``gaussian`` mode, where the term compares SM + NP with a measurement, the SM theory error is added
  in quadrature, side by side: above the centre the measurement's upper error is combined with the SM's
  lower error (a prediction above the data is pulled back by the SM's downward uncertainty), below the
  centre the measurement's lower error with the SM's upper error. Terms on the NP part have no SM error.
  ``cuts`` mode uses the experimental errors only, as the paper does.
* Terms are not normalised: each term is 0 at its best value (upper limits: at x <= 0). The missing
  constants are the same for every parameter point and every model, so they cancel in posteriors and
  Bayes factors.
* ``cuts`` with softening width w > 0: outside [lo, hi] the step becomes
  -1/2 (d / (w * scale))^2, d the distance to the nearest edge, scale the window half-width
  ((hi - lo)/2) for windows and L for upper limits. w = 0 keeps the hard step (0 or -inf).
  ``hard_bound`` terms are never softened.
* Pull: (x - centre)/sigma with the ``gaussian``-mode sigma of that side (x/sigma for upper limits), the
  same in both modes; NaN for hard bounds, which have no statistical meaning.
* Margin: signed distance from x to the nearest edge of the cut, positive when the cut passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from physics.jit import ENABLED, clear_stale_cache, jit

if ENABLED:
    from physics import jit as _jit_module

    clear_stale_cache(__file__, [_jit_module.__file__])

MODES: tuple[str, ...] = ("gaussian", "cuts")


class TermKind(StrEnum):
    """The kind of a term (the table in the module docstring); converted once from the data file's or run
    file's string when a :class:`TermSpec` is built."""

    GAUSSIAN = "gaussian"
    ASYMMETRIC_GAUSSIAN = "asymmetric_gaussian"
    UPPER_LIMIT = "upper_limit"
    INTERVAL = "interval"
    HARD_BOUND = "hard_bound"

    @property
    def is_measurement(self) -> bool:
        """A central value with errors (gaussian or asymmetric_gaussian)."""
        return self in (TermKind.GAUSSIAN, TermKind.ASYMMETRIC_GAUSSIAN)


TERM_KINDS: tuple[str, ...] = tuple(k.value for k in TermKind)
AppliesTo = Literal["total", "np"]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def half_normal_z(cl: float) -> float:
    """z with P(|X| < z) = cl for a standard normal X: Phi^-1((1 + cl)/2). 0.90 -> 1.6449."""
    if not 0.0 < cl < 1.0:
        raise ValueError(f"confidence level must lie in (0, 1), got {cl}")
    return float(ndtri(0.5 * (1.0 + cl)))


def half_normal_sigma(limit: float, cl: float) -> float:
    """Width of the half-normal at zero whose cl-quantile is ``limit`` (same unit as ``limit``)."""
    return limit / half_normal_z(cl)


def _quad(a: float, b: float) -> float:
    return math.hypot(a, b)


@dataclass(frozen=True)
class TermSpec:
    """The numbers of one term, in the unit of its observable.

    central, error_up, error_down: a measurement (experimental errors, stat and syst combined).
    limit, cl: an upper limit and its confidence level (0.9 for 90 %).
    low, high: interval or bound edges (None = unbounded on that side).
    theory_up, theory_down: SM theory errors, used in ``gaussian`` mode when ``applies_to == "total"``.
    window_observable, windows: the term applies only where that observable lies in one of the windows
        (e.g. NA62's K+ -> pi+ X search covers m_S in [0, 110] and [154, 260] MeV); elsewhere it is 0.
    softening: per-term override of the ``cuts`` softening width (fraction of the term's scale).
    label: how the compared quantity reads in a condition ("SM+NP", "NP" or the observable name).
    """

    name: str
    observable: str
    applies_to: AppliesTo
    kind: TermKind
    unit: str = "1"
    central: float | None = None
    error_up: float | None = None
    error_down: float | None = None
    limit: float | None = None
    cl: float | None = None
    low: float | None = None
    high: float | None = None
    theory_up: float = 0.0
    theory_down: float = 0.0
    window_observable: str | None = None
    windows: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    softening: float | None = None
    label: str = "x"

    def __post_init__(self) -> None:
        if self.kind not in TERM_KINDS:
            raise ValueError(f"term {self.name!r} of kind {self.kind!r}: unknown kind; choose one of "
                             f"{', '.join(TERM_KINDS)}")
        object.__setattr__(self, "kind", TermKind(self.kind))  # a string from a file becomes the enum here
        problem = self.missing()
        if problem:
            raise ValueError(f"term {self.name!r} of kind {self.kind.value!r}: {problem}")

    def missing(self) -> str:
        """'' if the numbers suffice for the kind, else what is missing or wrong."""
        k = self.kind
        if self.applies_to not in ("total", "np"):
            return f"applies_to must be 'total' or 'np', got {self.applies_to!r}"
        if k.is_measurement:
            if self.central is None or self.error_up is None or self.error_down is None:
                return "needs central and error (or error_up and error_down)"
            if self.error_up <= 0 or self.error_down <= 0:
                return "errors must be positive"
        elif k is TermKind.UPPER_LIMIT:
            if self.limit is None or self.cl is None:
                return "needs limit and cl"
            if not 0.0 < self.cl < 1.0:
                return f"cl must lie in (0, 1), got {self.cl}"
            if self.limit <= 0:
                return "limit must be positive"
        elif k is TermKind.INTERVAL:
            if self.low is None or self.high is None or not self.low < self.high:
                return "needs low < high"
        elif self.low is None and self.high is None:
            return "hard_bound needs low and/or high"
        elif self.low is not None and self.high is not None and not self.low < self.high:
            return "hard_bound needs low < high"
        if self.softening is not None and self.softening < 0:
            return "softening must be >= 0"
        return ""

    # -- the cut -------------------------------------------------------------------------------------
    def cut_edges(self) -> tuple[float, float]:
        """[lo, hi] of the paper's pass/fail condition (experimental 1 sigma for measurements)."""
        k = self.kind
        if k.is_measurement:
            assert self.central is not None and self.error_up is not None and self.error_down is not None
            return self.central - self.error_down, self.central + self.error_up
        if k is TermKind.UPPER_LIMIT:
            assert self.limit is not None
            return -math.inf, self.limit
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return lo, hi

    def cut_scale(self) -> float:
        """Scale of the softening width: window half-width, or the limit for upper limits."""
        lo, hi = self.cut_edges()
        if self.kind is TermKind.UPPER_LIMIT:
            return hi
        return 0.5 * (hi - lo)

    # -- the statistical form ------------------------------------------------------------------------
    def gaussian_form(self) -> tuple[float, float, float] | None:
        """(centre, sigma_up, sigma_down) of the ``gaussian``-mode likelihood; None for hard bounds.

        For upper limits the centre is 0 and both sigmas are the half-normal width.
        """
        th_up, th_down = (self.theory_up, self.theory_down) if self.applies_to == "total" else (0.0, 0.0)
        k = self.kind
        if k.is_measurement:
            assert self.central is not None and self.error_up is not None and self.error_down is not None
            return self.central, _quad(self.error_up, th_down), _quad(self.error_down, th_up)
        if k is TermKind.UPPER_LIMIT:
            assert self.limit is not None and self.cl is not None
            s = _quad(half_normal_sigma(self.limit, self.cl), th_down)
            return 0.0, s, s
        if k is TermKind.INTERVAL:
            assert self.low is not None and self.high is not None
            half = 0.5 * (self.high - self.low)
            return 0.5 * (self.low + self.high), _quad(half, th_down), _quad(half, th_up)
        return None

    def condition(self) -> str:
        """The pass/fail condition in words, e.g. 'NP <= 1.8e-05 (90% CL)'."""
        unit = "" if self.unit in ("1", "") else f" {self.unit}"
        lo, hi = self.cut_edges()
        if self.kind is TermKind.UPPER_LIMIT:
            return f"{self.label} <= {self.limit:.4g}{unit} ({100 * (self.cl or 0):.4g}% CL)"
        if math.isinf(lo):
            text = f"{self.label} <= {hi:.4g}{unit}"
        elif math.isinf(hi):
            text = f"{self.label} >= {lo:.4g}{unit}"
        else:
            text = f"{lo:.4g} <= {self.label} <= {hi:.4g}{unit}"
        if self.kind.is_measurement:
            text += " (1 sigma)"
        return text


@dataclass(frozen=True)
class Term:
    """A :class:`TermSpec` evaluated in one mode (``gaussian`` or ``cuts``) with a softening width."""

    spec: TermSpec
    mode: str
    softening: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.softening < 0:
            raise ValueError("softening must be >= 0")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def observables(self) -> tuple[str, ...]:
        """Observables the term reads: its own, plus the one its windows refer to."""
        extra = (self.spec.window_observable,) if self.spec.window_observable else ()
        return (self.spec.observable, *extra)

    def applicable(self, window_x: ArrayLike | None, n: int) -> BoolArray:
        """Where the term applies (True everywhere unless it has windows)."""
        if not self.spec.windows:
            return np.ones(n, dtype=bool)
        if window_x is None:
            raise ValueError(f"term {self.name!r} needs values of {self.spec.window_observable!r}")
        w = np.ascontiguousarray(window_x, dtype=float)
        win = np.asarray(self.spec.windows, dtype=float).reshape(-1, 2)
        mask = np.empty(w.shape, dtype=bool)
        _in_windows_array(w.reshape(-1), win, mask.reshape(-1))
        return mask

    def loglike(self, x: ArrayLike, window_x: ArrayLike | None = None) -> FloatArray:
        """Log-likelihood per point (0 where the term does not apply)."""
        xa = np.asarray(x, dtype=float)
        value = self._loglike_raw(xa)
        return np.where(self.applicable(window_x, xa.shape[0]), value, 0.0)

    def _loglike_raw(self, x: FloatArray) -> FloatArray:
        code, centre, s_up, s_down, lo, hi, _ = fast_form(self)
        x = np.ascontiguousarray(x, dtype=float)
        out = np.empty_like(x)
        _term_loglike_array(code, centre, s_up, s_down, lo, hi, x.reshape(-1), out.reshape(-1))
        return out

    def passed(self, x: ArrayLike, window_x: ArrayLike | None = None) -> BoolArray:
        """The paper's condition (independent of mode and softening); True where the term does not apply."""
        xa = np.asarray(x, dtype=float)
        lo, hi = self.spec.cut_edges()
        inside = (xa >= lo) & (xa <= hi)
        return inside | ~self.applicable(window_x, xa.shape[0])

    def pull(self, x: ArrayLike, window_x: ArrayLike | None = None) -> FloatArray:
        """(x - centre)/sigma in ``gaussian``-mode sigmas; NaN for hard bounds or where not applicable."""
        xa = np.asarray(x, dtype=float)
        form = self.spec.gaussian_form()
        if form is None:
            return np.full(xa.shape, np.nan)
        centre, s_up, s_down = form
        pull = (xa - centre) / np.where(xa >= centre, s_up, s_down)
        return np.where(self.applicable(window_x, xa.shape[0]), pull, np.nan)

    def margin(self, x: ArrayLike, window_x: ArrayLike | None = None) -> FloatArray:
        """Signed distance to the nearest edge of the cut (observable unit); > 0 passes, NaN if n/a."""
        xa = np.asarray(x, dtype=float)
        lo, hi = self.spec.cut_edges()
        with np.errstate(invalid="ignore"):
            m = np.minimum(xa - lo, hi - xa)
        return np.where(self.applicable(window_x, xa.shape[0]), m, np.nan)

    def relative_margin(self, x: ArrayLike, window_x: ArrayLike | None = None) -> FloatArray:
        """Margin divided by the magnitude of the nearest edge (e.g. -0.0035 = 0.35 % beyond a limit)."""
        xa = np.asarray(x, dtype=float)
        lo, hi = self.spec.cut_edges()
        edge = np.where(np.abs(xa - lo) <= np.abs(hi - xa), lo, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = self.margin(xa, window_x) / np.abs(edge)
        return np.where(np.isfinite(rel), rel, np.nan)


# ---------------------------------------------------------------------------- closed forms of the terms
# Every term is one of three closed forms, evaluated by term_loglike (for Term.loglike and, summed, by
# likelihoods.compiled).
FAST_GAUSS, FAST_STEP, FAST_SOFT = 0, 1, 2
FastForm = tuple[int, float, float, float, float, float, tuple[tuple[float, float], ...]]


@jit
def term_loglike(code: int, x: float, centre: float, sigma_up: float, sigma_down: float, lo: float,
                 hi: float) -> float:
    """Log-likelihood of one term of closed form ``code`` (:func:`fast_form`) at x: the one evaluation of every
    kind, used by :meth:`Term.loglike` and the compiled term sum (likelihoods.compiled). NaN propagates.

    FAST_GAUSS: -1/2 ((x - centre)/sigma)^2, sigma_up for x >= centre (an upper limit has centre 0 and
    sigma_down = inf: flat below zero). FAST_STEP: 0 in [lo, hi], -inf outside. FAST_SOFT: -1/2 (d/sigma_up)^2,
    d the distance to [lo, hi].
    """
    if code == FAST_GAUSS:
        z = (x - centre) / (sigma_up if x >= centre else sigma_down)
        return -0.5 * z * z
    if code == FAST_STEP:
        return -math.inf if x < lo or x > hi else 0.0
    d = (0.0 if x >= lo else lo - x) + (0.0 if x <= hi else x - hi)
    e = d / sigma_up
    return -0.5 * (e * e)


@jit
def in_windows(w: float, win: FloatArray, start: int, end: int) -> bool:
    """Whether w lies in one of the windows ``win[start:end]`` (rows lo, hi; edges included, NaN in none): the
    one test of a term's windows, for :meth:`Term.applicable` and the compiled term sum."""
    for k in range(start, end):
        if win[k, 0] <= w <= win[k, 1]:
            return True
    return False


@jit
def _in_windows_array(w: FloatArray, win: FloatArray, out: NDArray[np.bool_]) -> None:
    for i in range(w.size):
        out[i] = in_windows(w[i], win, 0, win.shape[0])


@jit
def _term_loglike_array(code: int, centre: float, sigma_up: float, sigma_down: float, lo: float, hi: float,
                        x: FloatArray, out: FloatArray) -> None:
    for i in range(x.size):
        out[i] = term_loglike(code, x[i], centre, sigma_up, sigma_down, lo, hi)


def fast_form(term: Term) -> FastForm:
    """(code, centre, sigma_up, sigma_down, lo, hi, windows) of ``term``: the closed form
    :func:`term_loglike` evaluates. windows: as TermSpec.windows (the term is 0 where its window observable
    lies in none of them; no windows = applies everywhere).
    """
    spec = term.spec
    lo, hi = spec.cut_edges()
    win = spec.windows
    if spec.kind is TermKind.HARD_BOUND:
        return FAST_STEP, 0.0, 1.0, 1.0, lo, hi, win
    if term.mode == "cuts":
        w = (term.softening if spec.softening is None else spec.softening) * spec.cut_scale()
        return (FAST_SOFT, 0.0, w, w, lo, hi, win) if w > 0.0 else (FAST_STEP, 0.0, 1.0, 1.0, lo, hi, win)
    form = spec.gaussian_form()
    assert form is not None
    centre, s_up, s_down = form
    if spec.kind is TermKind.UPPER_LIMIT:
        return FAST_GAUSS, 0.0, s_up, math.inf, -math.inf, math.inf, win
    return FAST_GAUSS, centre, s_up, s_down, -math.inf, math.inf, win
