"""Can two runs be set side by side? The check `sensitivity` (and `reweight`) make before using two folders.

Two runs are comparable when they differ only in the parameters under test: the same measurement set,
likelihood mode, softening and term overrides, the same theory scenario and options, and the same prior
(or fixed value) for every other parameter. The parameters under test are those free in one run and fixed
in the other (kappa for the kappa != 0 / kappa = 0 pair), unless named explicitly.

This is deliberately one small function over the resolved run files (``run.yaml`` of a results folder, or
``RunConfig.to_dict()``): the reusable check that ``darkportal compare`` is to use (issue 12) has the same
role, and :func:`check_comparable` can be replaced by it without touching its callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Difference", "IncompatibleRunsError", "check_comparable", "differences", "parameters_under_test"]


@dataclass(frozen=True)
class Difference:
    """One key path where two resolved run files disagree, with both values."""

    key: str
    a: Any
    b: Any

    def describe(self, label_a: str = "A", label_b: str = "B") -> str:
        return f"{self.key}: {label_a} has {self.a!r}, {label_b} has {self.b!r}"


class IncompatibleRunsError(ValueError):
    """Two runs differ in more than the parameters under test; ``differences`` lists every difference."""

    def __init__(self, message: str, differences: tuple[Difference, ...]):
        super().__init__(message)
        self.differences = differences


def _params(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    params = config.get("parameters") or {}
    return {name: {k: v for k, v in dict(spec).items() if k != "unit"} for name, spec in params.items()}


def parameters_under_test(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[str, ...]:
    """Parameters free in one run and fixed in the other (the hypothesis the pair of runs tests)."""
    pa, pb = _params(a), _params(b)
    return tuple(n for n in pa if n in pb and (("fixed" in pa[n]) != ("fixed" in pb[n])))


def differences(a: Mapping[str, Any], b: Mapping[str, Any], tested: Iterable[str] | None = None) -> list[Difference]:
    """Every difference between two resolved run files outside the parameters in ``tested`` (default:
    :func:`parameters_under_test`) and outside the bookkeeping keys (name, output, seed, sampler)."""
    skip = set(parameters_under_test(a, b) if tested is None else tested)
    out: list[Difference] = []
    la, lb = dict(a.get("likelihood") or {}), dict(b.get("likelihood") or {})
    for key in sorted(set(la) | set(lb)):
        va, vb = la.get(key), lb.get(key)
        if key == "terms":
            va, vb = va or {}, vb or {}
        if va != vb:
            out.append(Difference(f"likelihood.{key}", va, vb))
    ta, tb = dict(a.get("theory") or {}), dict(b.get("theory") or {})
    if ta.get("scenario") != tb.get("scenario"):
        out.append(Difference("theory.scenario", ta.get("scenario"), tb.get("scenario")))
    oa, ob = dict(ta.get("options") or {}), dict(tb.get("options") or {})
    out += [Difference(f"theory.options.{k}", oa.get(k), ob.get(k)) for k in sorted(set(oa) | set(ob))
            if oa.get(k) != ob.get(k)]
    pa, pb = _params(a), _params(b)
    for name in list(dict.fromkeys([*pa, *pb])):
        if name not in skip and pa.get(name) != pb.get(name):
            out.append(Difference(f"parameters.{name}", pa.get(name), pb.get(name)))
    return out


def check_comparable(a: Mapping[str, Any], b: Mapping[str, Any], label_a: str = "A", label_b: str = "B",
                     tested: Iterable[str] | None = None) -> tuple[str, ...]:
    """Return the parameters under test, or raise :class:`IncompatibleRunsError` naming every difference."""
    names = tuple(parameters_under_test(a, b) if tested is None else tested)
    diffs = differences(a, b, names)
    if diffs:
        lines = "\n  ".join(d.describe(label_a, label_b) for d in diffs)
        raise IncompatibleRunsError(
            f"{label_a} and {label_b} are not comparable: besides the parameter(s) under test "
            f"({', '.join(names) or 'none'}) they differ in\n  {lines}\n"
            "Rerun one of them with the other's run file changed only in the parameter under test.",
            tuple(diffs))
    return names
