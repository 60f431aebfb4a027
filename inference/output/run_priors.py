"""The priors of a finished run, read from its resolved run file (``run.yaml``) as typed records.

One source for the exports' ranges (GetDist ``.ranges``), the bounds of the plots' density contours and the
report's prior table.  Parameters are in the paper's units (kappa in TeV^-1, masses in MeV); a parameter
the run file leaves out has the paper's scan range (priors.PAPER_RANGES), as the run itself had.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from physics import PARAM_NAMES, REGISTRY
from priors import PAPER_RANGES, PAPER_UNITS


@dataclass(frozen=True)
class PriorInfo:
    """One parameter's prior: kind ("uniform", "log_uniform", "normal" or "fixed"), support, unit, label."""

    name: str
    kind: str
    low: float
    high: float
    unit: str
    latex: str
    fixed: float | None = None
    mean: float | None = None
    sigma: float | None = None

    @property
    def free(self) -> bool:
        return self.fixed is None

    def describe(self) -> str:
        """The prior in words, e.g. 'uniform on [0, 2]', 'log-uniform on [1e-4, 0.02]', 'fixed at 0'."""
        if self.fixed is not None:
            return f"fixed at {self.fixed:g}"
        box = f"[{self.low:g}, {self.high:g}]"
        if self.kind == "normal":
            trunc = f", truncated to {box}" if math.isfinite(self.low) or math.isfinite(self.high) else ""
            return f"normal, mean {self.mean:g}, sigma {self.sigma:g}{trunc}"
        return f"{self.kind.replace('_', '-')} on {box}"


def run_priors(config: Mapping[str, Any]) -> dict[str, PriorInfo]:
    """Every model parameter's prior (in PARAM_NAMES order) from a resolved run file's ``parameters``."""
    section = config.get("parameters") or {}
    out = {}
    for name in PARAM_NAMES:
        spec = section.get(name)
        unit = PAPER_UNITS.get(name, "1")
        latex = REGISTRY[name].latex if name in REGISTRY else name
        if not isinstance(spec, Mapping):
            lo, hi = PAPER_RANGES[name]
            out[name] = PriorInfo(name, "uniform", lo, hi, unit, latex)
        elif "fixed" in spec:
            v = float(spec["fixed"])
            out[name] = PriorInfo(name, "fixed", v, v, unit, latex, fixed=v)
        else:
            kind = str(spec.get("prior", "uniform"))
            lo = float(spec["min"]) if spec.get("min") is not None else -math.inf
            hi = float(spec["max"]) if spec.get("max") is not None else math.inf
            mean = float(spec["mean"]) if "mean" in spec else None
            sigma = float(spec["sigma"]) if "sigma" in spec else None
            out[name] = PriorInfo(name, kind, lo, hi, unit, latex, mean=mean, sigma=sigma)
    return out


def prior_bounds(config: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """name -> (low, high) support of every free parameter (infinite where the prior is unbounded)."""
    return {n: (p.low, p.high) for n, p in run_priors(config).items() if p.free}
