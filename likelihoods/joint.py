"""The joint likelihood: the terms of one measurement set, evaluated on physics predictions.

Two stages: ``physics.predict(params, names)`` gives predictions for the observables
the enabled terms need, then every term turns its number per point into a log-likelihood. The total is
the sum of the terms plus the ``"physics domain"`` entry (0 inside the model's domain, -inf outside:
``physics.domain_violations``). Everything is vectorised over the N points of a ``ModelParams``.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, overload

import numpy as np

from likelihoods import compiled
from likelihoods.compiled import CompiledLoglike
from likelihoods.database import NUMERIC_OVERRIDES, MeasurementEntry, check_data_set, load_measurements
from likelihoods.errors import LikelihoodConfigError, NonFiniteLikelihoodError, TermOverrideError, did_you_mean
from likelihoods.terms import (
    MODES,
    TERM_KINDS,
    FloatArray,
    Term,
)
from physics.errors import suggestion, type_name

log = logging.getLogger(__name__)

DOMAIN_TERM = "physics domain"
_OVERRIDE_KEYS = ("enabled", "kind", *NUMERIC_OVERRIDES)
_DIMENSIONLESS = {"", "1", "dimensionless"}
_Array = np.ndarray


class PredictionLike(Protocol):
    """What a term reads from a physics prediction (``physics.Prediction`` satisfies it)."""

    @property
    def np(self) -> _Array: ...

    @property
    def total(self) -> _Array: ...


class _Pred(NamedTuple):
    np: _Array
    sm: float | None
    total: _Array


Predictor = Callable[..., Mapping[str, Any]]
#: a sampler vector's map to the 8 physics parameters: (index, factor, constant) per parameter
ColumnMap = tuple[Sequence[int], Sequence[float], Sequence[float]]
DomainFn = Callable[[Any], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class ConstraintResult:
    """One term at N points: the compared value, the paper's condition, pass/fail, pull and margin."""

    name: str
    observable: str
    applies_to: str
    kind: str
    condition: str
    unit: str
    enabled: bool
    source: str
    value: FloatArray
    passed: np.ndarray
    pull: FloatArray
    margin: FloatArray
    relative_margin: FloatArray
    loglike: FloatArray


def _value(pred: PredictionLike, applies_to: str) -> FloatArray:
    return np.asarray(pred.total if applies_to == "total" else pred.np, dtype=float)


def check_overrides(overrides: Mapping[str, Any], terms: Sequence[str], data_set: str) -> dict[str, dict[str, Any]]:
    """A run's term overrides checked against the terms of measurement set ``data_set``, and normalised.

    ``overrides``: term name -> {"enabled": bool, "kind": one of TERM_KINDS, and numbers among
    NUMERIC_OVERRIDES}. Returns the same with the numbers as floats. The one check of overrides: the run-file
    layer calls it to point at the file, key and line of the first :class:`TermOverrideError` (which carries the
    term, the key, the value, the problem and the fix), ``JointLikelihood.from_config`` to refuse bad input.
    """
    names = list(terms)
    out: dict[str, dict[str, Any]] = {}
    for name, ov in overrides.items():
        if name not in names:
            raise TermOverrideError(str(name), f"unknown observable or term in measurement set {data_set!r}",
                                    suggestion(name, names, "a term name:"), value=ov)
        if not isinstance(ov, Mapping):
            raise TermOverrideError(name, "the entry of the term must be a mapping (key: value lines), got "
                                    f"{type_name(ov)}", "Write it as, for example, {enabled: false}", value=ov)
        parsed: dict[str, Any] = {}
        for key, value in ov.items():
            if not isinstance(key, str):
                raise TermOverrideError(name, f"keys must be names, got {type_name(key)}",
                                        "Write the key as a name (quote it if it looks like a number)",
                                        key=str(key), value=value)
            if key not in _OVERRIDE_KEYS:
                raise TermOverrideError(name, f"unknown term setting {key!r}", suggestion(key, _OVERRIDE_KEYS),
                                        key=key, value=value)
            parsed[key] = _override_value(name, key, value)
        out[name] = parsed
    return out


def _override_value(term: str, key: str, value: Any) -> Any:
    """One override setting, checked: ``enabled`` a boolean, ``kind`` a term kind, the rest numbers
    (finite; ``cl`` in (0, 1]; errors and ``softening`` >= 0)."""
    def fail(problem: str, fix: str) -> TermOverrideError:
        return TermOverrideError(term, problem, fix, key=key, value=value)

    if key == "enabled":
        if not isinstance(value, bool):
            raise fail(f"expected true or false, got {type_name(value)}", "Write true or false")
        return value
    if key == "kind":
        if not isinstance(value, str) or value not in TERM_KINDS:
            raise fail(f"unknown term kind {value!r}" if isinstance(value, str)
                       else f"term kind must be a name, got {type_name(value)}", suggestion(value, TERM_KINDS))
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(f"expected a number, got {type_name(value)}", "Write a plain number such as 0.5 or 1e-3 (no quotes)")
    number = float(value)
    if not math.isfinite(number):
        raise fail(f"expected a finite number, got {value}", "Write a finite number")
    if key == "cl" and not 0.0 < number <= 1.0:
        raise fail(f"must be > 0 and <= 1, got {number:g}", "Write the confidence level as a fraction, such as 0.9")
    if (key.startswith("error") or key == "softening") and number < 0.0:
        raise fail(f"must be >= 0, got {number:g}", "Use a value >= 0")
    return number


class JointLikelihood:
    """Sum of log-likelihood terms of one measurement set in one mode.

    Build with :meth:`from_config`. ``predictor`` (default ``physics.predict``) is called as
    ``predictor(params, names, options)`` and must return name -> object with ``.np`` and ``.total``.
    """

    def __init__(self, terms: Sequence[Term], disabled: Sequence[Term] = (), *, data_set: str = "",
                 mode: str = "cuts", softening: float = 0.0, options: Any = None,
                 entries: Mapping[str, MeasurementEntry] | None = None, predictor: Predictor | None = None,
                 domain: DomainFn | None = None):
        self.terms: tuple[Term, ...] = tuple(terms)
        self.disabled_terms: tuple[Term, ...] = tuple(disabled)
        self.data_set = data_set
        self.mode = mode
        self.softening = softening
        self.options = options
        self.entries: dict[str, MeasurementEntry] = dict(entries or {})
        self._predictor = predictor
        self._domain = domain
        self._fast: CompiledLoglike | bool | None = None  # built on first use; False = no kernel path
        self._mapped: dict[tuple[tuple[Any, ...], ...], CompiledLoglike] = {}  # kernel_path per column map

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, data_set: str, mode: str, softening: float = 0.0,
                    overrides: Mapping[str, Mapping[str, Any]] | None = None, options: Any = None,
                    predictor: Predictor | None = None, domain: DomainFn | None = None,
                    extra_entries: Sequence[Mapping[str, Any]] = ()) -> JointLikelihood:
        """The likelihood of measurement set ``data_set`` ("2023" | "2025") in ``mode`` ("gaussian" | "cuts").

        softening: ``cuts`` mode only; width of the smooth penalty beyond a cut edge as a fraction of the
            term's scale (window half-width, or the limit): -1/2 (d / (softening * scale))^2. 0 = hard step.
            ``hard_bound`` terms stay hard.
        overrides: term name -> {"enabled": bool, "kind": one of TERM_KINDS, and optionally numbers
            replacing the data of the entry: "central", "error", "error_up", "error_down", "limit", "cl",
            "low", "high", and "softening" (per-term width)}. A changed kind takes what it needs from the
            entry's data (an interval from a measurement's 1 sigma band, a hard bound from a limit...).
        options: ``physics.TheoryOptions`` passed to the predictor (None = the paper scenario).
        predictor, domain: stand-ins for ``physics.predict`` and ``physics.domain_violations`` (tests).
        extra_entries: user measurement entries (the data file's schema) that replace or add terms
            (``likelihoods.database.load_measurements``).
        Errors: LikelihoodConfigError naming the set, mode, term, kind or key, with a did-you-mean.
        """
        ds = check_data_set(data_set)
        if mode not in MODES:
            raise LikelihoodConfigError(f"unknown likelihood mode {mode!r}{did_you_mean(str(mode), MODES)}; "
                                        f"choose one of {', '.join(MODES)}")
        if not np.isfinite(softening) or softening < 0:
            raise LikelihoodConfigError(f"softening must be a finite number >= 0, got {softening!r}")
        entries = {e.name: e for e in load_measurements(ds, extra_entries)}
        overrides = check_overrides(overrides or {}, list(entries), ds)
        enabled: list[Term] = []
        disabled: list[Term] = []
        for name, entry in entries.items():
            ov = overrides.get(name, {})
            numbers = {k: v for k, v in ov.items() if k in NUMERIC_OVERRIDES}
            spec = entry.spec(ov.get("kind"), numbers)
            term = Term(spec, mode, float(softening))
            (enabled if ov.get("enabled", entry.enabled) else disabled).append(term)
        _check_units(entries.values())
        log.debug("likelihood %s/%s: %d terms on, %d off", ds, mode, len(enabled), len(disabled))
        return cls(enabled, disabled, data_set=ds, mode=mode, softening=float(softening), options=options,
                   entries=entries, predictor=predictor, domain=domain)

    # -- what it needs -------------------------------------------------------------------------------
    @property
    def term_names(self) -> list[str]:
        """Names of the enabled terms (``logpdf(..., per_term=True)`` also has ``DOMAIN_TERM``)."""
        return [t.name for t in self.terms]

    @property
    def observables(self) -> list[str]:
        """Physics observables the enabled terms read, in first-use order."""
        seen: dict[str, None] = {}
        for t in self.terms:
            for obs in t.observables:
                seen.setdefault(obs, None)
        return list(seen)

    # -- evaluation ----------------------------------------------------------------------------------
    @overload
    def logpdf(self, points: Any, *, per_term: Literal[False] = False,
               columns: ColumnMap | None = None) -> FloatArray: ...

    @overload
    def logpdf(self, points: Any, *, per_term: Literal[True],
               columns: ColumnMap | None = None) -> dict[str, FloatArray]: ...

    def logpdf(self, points: Any, *, per_term: bool = False,
               columns: ColumnMap | None = None) -> FloatArray | dict[str, FloatArray]:
        """Log-likelihood at N points: the total, shape (N,), or with ``per_term`` each enabled term and
        DOMAIN_TERM (their sum is the total). -inf outside a cut or the physics domain.

        points: a physics.ModelParams, or an (N, 8) array in physics.PARAM_NAMES order (GeV units), or with
            ``columns`` (index, factor, constant per physics parameter: likelihoods.compiled's column map) an
            (N, ndim) array of sampler vectors.
        The total comes from the physics kernel (likelihoods.compiled) where it covers the terms, else from
        ``physics.predict`` and the terms (the reference, :meth:`evaluate`); a NaN or +inf from the kernel goes
        to the reference, which raises NonFiniteLikelihoodError naming the point.
        """
        from physics import ModelParams
        is_params = isinstance(points, ModelParams)
        x = points.to_array() if is_params else np.asarray(points, dtype=float)
        if x.ndim == 1:
            x = x[None, :]
        if not per_term:
            plan = self._kernel() if columns is None or is_params else self._mapped_kernel(columns)
            if plan is not None:
                out = plan.batch(x)
                if not np.any(np.isnan(out) | (out == np.inf)):
                    return out
        if is_params:
            params = points
        else:
            params = ModelParams.from_array(x if columns is None else compiled.map_columns(x, *columns))
        total, terms, _ = self.evaluate(params)
        return terms if per_term else total

    def kernel_path(self, index: Sequence[int], factor: Sequence[float],
                    constant: Sequence[float]) -> CompiledLoglike | None:
        """The kernel path reading sampler vectors through a column map (likelihoods.compiled), cached per map:
        the one-point call a sampler makes per proposal. None where the kernel does not cover this likelihood
        (stand-in predictor or domain, a window observable with an SM value, theory options it lacks). Its
        values may be NaN or +inf where :meth:`logpdf` would raise: check them."""
        return self._mapped_kernel((tuple(index), tuple(factor), tuple(constant)))

    def _mapped_kernel(self, columns: ColumnMap) -> CompiledLoglike | None:
        mapped = self._mapped.get(columns)  # type: ignore[arg-type]
        if mapped is None:
            plan = self._kernel()
            if plan is None:
                return None
            mapped = self._mapped[columns] = plan.with_columns(*columns)  # type: ignore[index]
        return mapped

    def _kernel(self) -> CompiledLoglike | None:
        if self._fast is None:
            usable = self._predictor is None and self._domain is None
            plan = compiled.build(self.terms, self.observables, self.options, f"{self.data_set}/{self.mode}") \
                if usable else None
            self._fast = plan or False
        return self._fast if isinstance(self._fast, CompiledLoglike) else None

    def evaluate(self, params: Any, extra: Sequence[str] = ()) -> tuple[FloatArray, dict[str, FloatArray],
                                                                      dict[str, Any]]:
        """(total, per-term, predictions) at the N points of ``params`` (a physics.ModelParams).

        Predictions are computed for the points inside the physics domain only; outside it their arrays
        hold NaN, every term is 0 and DOMAIN_TERM is -inf. ``extra`` names observables to predict beside
        the ones the terms read (e.g. unmeasured decays to store with posterior samples).
        """
        n = params.size
        inside = _in_domain(params, self._domain)
        names = list(dict.fromkeys([*self.observables, *extra]))
        if inside.all():
            preds = dict(self._predict(params, names))
        else:
            sub = self._predict(params.take(np.flatnonzero(inside)), names) if inside.any() else {}
            preds = {name: _scatter(sub.get(name), inside, n) for name in names}
        terms = self._terms_from_predictions(preds, params=params, valid=inside)
        total = np.sum(np.stack(list(terms.values())), axis=0) if terms else np.zeros(n)
        return total, terms, preds

    def _terms_from_predictions(self, predictions: Mapping[str, PredictionLike], params: Any = None,
                               valid: np.ndarray | None = None) -> dict[str, FloatArray]:
        """Stage two alone: per-term log-likelihoods from predictions (name -> .np/.total arrays).

        valid: points to evaluate (others get 0 and DOMAIN_TERM = -inf); None = all points, and then
        DOMAIN_TERM is included only if ``params`` is given. NaN or +inf raises NonFiniteLikelihoodError.
        """
        n = _size(predictions, params)
        ok = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
        out: dict[str, FloatArray] = {}
        for term in self.terms:
            x, wx = self._inputs(term, predictions)
            value = np.zeros(n)
            if ok.any():
                value[ok] = term.loglike(x[ok], None if wx is None else wx[ok])
            bad = np.isnan(value) | (value == np.inf)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise NonFiniteLikelihoodError(
                    term.name, float(value[i]), _point(params, i), index=i,
                    units="paper units" if params is not None else "", term=term.name,
                    observable=term.spec.observable, prediction=float(x[i]))
            out[term.name] = value
        if params is not None or valid is not None:
            out[DOMAIN_TERM] = np.where(ok, 0.0, -np.inf)
        return out

    @property
    def all_observables(self) -> list[str]:
        """Observables of every term, enabled or not (what :meth:`report` needs for a full table)."""
        seen: dict[str, None] = dict.fromkeys(self.observables)
        for t in self.disabled_terms:
            seen.update(dict.fromkeys(t.observables))
        return list(seen)

    def report(self, predictions: Mapping[str, PredictionLike],
               include_disabled: bool = True) -> list[ConstraintResult]:
        """Each term's value, condition, pass/fail, pull and margin.

        Disabled terms are included (``enabled=False``, not part of any total) when their predictions
        are present in ``predictions``.
        """
        rows = []
        terms = [(t, True) for t in self.terms]
        if include_disabled:
            terms += [(t, False) for t in self.disabled_terms]
        for term, on in terms:
            if not on and not all(obs in predictions for obs in term.observables):
                log.debug("report: disabled term %r skipped (no prediction)", term.name)
                continue
            x, wx = self._inputs(term, predictions)
            entry = self.entries.get(term.name)
            rows.append(ConstraintResult(
                name=term.name, observable=term.spec.observable, applies_to=term.spec.applies_to,
                kind=term.spec.kind.value, condition=term.spec.condition(), unit=term.spec.unit, enabled=on,
                source=entry.source if entry else "", value=x, passed=term.passed(x, wx),
                pull=term.pull(x, wx),
                margin=term.margin(x, wx), relative_margin=term.relative_margin(x, wx),
                loglike=term.loglike(x, wx)))
        return rows

    def describe(self) -> list[dict[str, Any]]:
        """Provenance of every term (for results files): name, kind, condition, source, on/off."""
        out = []
        for term, on in [(t, True) for t in self.terms] + [(t, False) for t in self.disabled_terms]:
            e = self.entries.get(term.name)
            out.append({"name": term.name, "observable": term.spec.observable,
                        "applies_to": term.spec.applies_to,
                        "kind": term.spec.kind.value, "condition": term.spec.condition(), "enabled": on,
                        "source": e.source if e else "", "reference": e.reference if e else "",
                        "table_row": e.table_row if e else "", "note": e.note if e else ""})
        return out

    # -- helpers -------------------------------------------------------------------------------------
    def _inputs(self, term: Term,
                predictions: Mapping[str, PredictionLike]) -> tuple[FloatArray, FloatArray | None]:
        try:
            x = _value(predictions[term.spec.observable], term.spec.applies_to)
            wobs = term.spec.window_observable
            wx = None if wobs is None else _value(predictions[wobs], "total")
        except KeyError as exc:
            raise LikelihoodConfigError(f"term {term.name!r} needs the prediction of {exc.args[0]!r}, "
                                        "which is missing") from None
        return x, wx

    def _predict(self, params: Any, names: list[str]) -> Mapping[str, Any]:
        if self._predictor is not None:
            return self._predictor(params, names, self.options)
        from physics import predict  # lazy: physics is heavy and loads tables
        return predict(params, names, self.options)


def _in_domain(params: Any, domain: DomainFn | None) -> np.ndarray:
    if domain is None:
        from physics import in_domain
        return np.asarray(in_domain(params), dtype=bool)
    masks: Mapping[str, np.ndarray] = domain(params)
    bad = np.zeros(params.size, dtype=bool)
    for mask in masks.values():
        bad |= np.asarray(mask, dtype=bool)
    return ~bad


def _scatter(pred: Any, inside: np.ndarray, n: int) -> _Pred:
    np_full = np.full(n, np.nan)
    total_full = np.full(n, np.nan)
    sm = None
    if pred is not None:
        np_full[inside] = pred.np
        total_full[inside] = pred.total
        sm = getattr(pred, "sm", None)
    return _Pred(np_full, sm, total_full)


def _size(predictions: Mapping[str, PredictionLike], params: Any) -> int:
    if params is not None:
        return int(params.size)
    for p in predictions.values():
        return int(np.asarray(p.total).shape[0])
    return 0


def _point(params: Any, i: int) -> dict[str, float]:
    """Point ``i`` of ``params`` in paper units (empty when there are no parameters, only predictions)."""
    if params is None:
        return {}
    return {k: float(v[i]) for k, v in params.to_paper_units().items()}


def _check_units(entries: Any) -> None:
    """Each entry's unit must match the physics registry's (skipped if physics cannot be imported)."""
    try:
        from physics import REGISTRY
    except ImportError:  # physics under construction: the integration tests catch a mismatch
        log.debug("physics.REGISTRY unavailable; unit check skipped")
        return
    for e in entries:
        for obs, unit in ((e.observable, e.unit), (e.window_observable, None)):
            if obs is None:
                continue
            if obs not in REGISTRY:
                raise LikelihoodConfigError(f"term {e.name!r}: unknown observable {obs!r}"
                                            f"{did_you_mean(obs, REGISTRY)}")
            reg_unit = str(REGISTRY[obs].unit)
            if unit is not None and not (unit == reg_unit or {unit, reg_unit} <= _DIMENSIONLESS):
                raise LikelihoodConfigError(f"term {e.name!r}: unit {unit!r} differs from the physics unit "
                                            f"{reg_unit!r} of {obs!r}")
