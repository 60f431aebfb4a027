"""Can two runs be compared? The differences that make an evidence ratio or a shared posterior meaningless.

Two runs compare (a Bayes factor, a Savage-Dickey ratio, overlaid posteriors) only if they use the same
data set, likelihood mode and softening, the same term overrides, the same theory scenario and options,
and the same prior on every parameter both sample. A parameter that one run fixes and the other samples
(kappa = 0 against kappa free) is the model difference being tested, not an incompatibility; it is
reported as ``Difference.kind is DifferenceKind.FIXED_IN_ONE`` and never blocks.

:func:`comparability` takes the resolved run files (``run.yaml`` of each results folder, or
``RunConfig.to_dict()``) and returns typed :class:`Difference` records; :func:`blocking` keeps those that
forbid a comparison. Commands that combine runs (compare, and the sensitivity / reweighting commands)
share this one definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inference.errors import DarkportalError


class DifferenceKind(StrEnum):
    DATA = "data set"
    MODE = "likelihood mode"
    SOFTENING = "softening of the cuts"
    TERMS = "likelihood terms"
    SCENARIO = "theory scenario"
    THEORY = "theory option"
    PRIOR = "prior of a shared parameter"
    FIXED_VALUE = "value of a parameter fixed in both"
    FIXED_IN_ONE = "parameter fixed in one run, sampled in the other"


#: kinds that do not stop a comparison: the model difference a Bayes factor is about
MODEL_DIFFERENCES = frozenset({DifferenceKind.FIXED_IN_ONE, DifferenceKind.FIXED_VALUE})


@dataclass(frozen=True)
class Difference:
    """One way in which run A and run B differ; ``key`` is the key path in the resolved run file."""

    kind: DifferenceKind
    key: str
    a: Any
    b: Any

    @property
    def blocking(self) -> bool:
        return self.kind not in MODEL_DIFFERENCES

    def __str__(self) -> str:
        return f"{self.kind}: {self.key} is {_show(self.a)} in A but {_show(self.b)} in B"


class IncomparableRunsError(DarkportalError, ValueError):
    """Two runs differ in a way that makes comparing them meaningless; carries the differences."""

    def __init__(self, differences: Sequence[Difference], labels: tuple[str, str] = ("A", "B"),
                 hint: str = "") -> None:
        self.differences = tuple(differences)
        lines = "; ".join(str(d) for d in self.differences)
        super().__init__(f"runs {labels[0]} and {labels[1]} cannot be compared: {lines}"
                         + (f". {hint}" if hint else ""))


def _show(value: Any) -> str:
    return "absent" if value is None else repr(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0) or (a != a and b != b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _get(config: Mapping[str, Any], *path: str) -> Any:
    node: Any = config
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _is_fixed(entry: Any) -> bool:
    return isinstance(entry, Mapping) and ("fixed" in entry or entry.get("prior") == "fixed")


def comparability(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[Difference, ...]:
    """Every difference between the resolved run files ``a`` and ``b`` that matters for comparing them."""
    out: list[Difference] = []
    for kind, path in ((DifferenceKind.DATA, ("likelihood", "data")), (DifferenceKind.MODE, ("likelihood", "mode")),
                       (DifferenceKind.SOFTENING, ("likelihood", "softening")),
                       (DifferenceKind.SCENARIO, ("theory", "scenario"))):
        va, vb = _get(a, *path), _get(b, *path)
        if not _same(va, vb):
            out.append(Difference(kind, ".".join(path), va, vb))
    terms_a, terms_b = _get(a, "likelihood", "terms") or {}, _get(b, "likelihood", "terms") or {}
    for name in sorted(set(terms_a) | set(terms_b)):
        if not _same(terms_a.get(name), terms_b.get(name)):
            out.append(Difference(DifferenceKind.TERMS, f'likelihood.terms["{name}"]', terms_a.get(name),
                                  terms_b.get(name)))
    opts_a, opts_b = _get(a, "theory", "options") or {}, _get(b, "theory", "options") or {}
    for name in sorted(set(opts_a) | set(opts_b)):
        if not _same(opts_a.get(name), opts_b.get(name)):
            out.append(Difference(DifferenceKind.THEORY, f"theory.options.{name}", opts_a.get(name), opts_b.get(name)))
    pars_a, pars_b = _get(a, "parameters") or {}, _get(b, "parameters") or {}
    for name in sorted(set(pars_a) | set(pars_b)):
        ea, eb = pars_a.get(name), pars_b.get(name)
        if _same(ea, eb):
            continue
        key = f"parameters.{name}"
        if _is_fixed(ea) and _is_fixed(eb):
            out.append(Difference(DifferenceKind.FIXED_VALUE, key, ea, eb))
        elif _is_fixed(ea) != _is_fixed(eb):
            out.append(Difference(DifferenceKind.FIXED_IN_ONE, key, ea, eb))
        else:
            out.append(Difference(DifferenceKind.PRIOR, key, ea, eb))
    return tuple(out)


def blocking(differences: Sequence[Difference]) -> tuple[Difference, ...]:
    """The differences that forbid a comparison (all but the model difference itself)."""
    return tuple(d for d in differences if d.blocking)


def require_comparable(a: Mapping[str, Any], b: Mapping[str, Any], labels: tuple[str, str] = ("A", "B"),
                       hint: str = "") -> tuple[Difference, ...]:
    """All differences of :func:`comparability`; raise :class:`IncomparableRunsError` if any is blocking."""
    found = comparability(a, b)
    if blocking(found):
        raise IncomparableRunsError(blocking(found), labels, hint)
    return found


def parameters_under_test(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[str, ...]:
    """Parameters free in one run and fixed in the other (the hypothesis a pair of runs tests)."""
    return tuple(d.key.split(".", 1)[1] for d in comparability(a, b) if d.kind is DifferenceKind.FIXED_IN_ONE)


def differences(a: Mapping[str, Any], b: Mapping[str, Any], tested: Sequence[str] | None = None) -> list[Difference]:
    """The differences that keep two runs from being set side by side for a test of ``tested`` (default:
    :func:`parameters_under_test`): every blocking one, and a parameter fixed to other values in both unless
    it is under test."""
    names = set(parameters_under_test(a, b) if tested is None else tested)
    return [d for d in comparability(a, b) if d.key.split(".", 1)[-1] not in names
            and (d.blocking or d.kind is DifferenceKind.FIXED_VALUE)]


def check_comparable(a: Mapping[str, Any], b: Mapping[str, Any], label_a: str = "A", label_b: str = "B",
                     tested: Sequence[str] | None = None) -> tuple[str, ...]:
    """The parameters under test of a pair of runs (sensitivity, reweighting), or IncomparableRunsError naming
    every difference beyond them."""
    found = differences(a, b, tested)
    if found:
        raise IncomparableRunsError(found, (label_a, label_b))
    return tuple(tested) if tested is not None else parameters_under_test(a, b)
