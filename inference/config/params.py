"""The ``parameters:`` section of a run file -> a :class:`priors.PriorSet` in the paper's units.

Every parameter left out gets the paper's scan range (``priors.defaults``). Besides types and
``min < max`` this checks units and the physical domain of the model, so that a run never starts on a
prior box where the physics is undefined:

* masses positive, and inside the ranges of the shipped scattering tables: m_S in [10, 150] MeV and
  m_nu4 in [400, 700] MeV (docs/physics/g2-scattering.md §7, the grid of the K tables), with m_S below m_nu4;
* |U_mu4| in [0, 1] (a mixing-matrix element); g_D in [0, sqrt(4 pi)] (perturbativity, the paper's
  upper bound); |kappa| <= 100 TeV^-1 (the effective operator needs Lambda = 1/kappa above m_B). kappa and the
  eta's may take either sign (as in ``physics.domain_violations``). Beyond these, ``config_points`` evaluates the
  likelihood on prior draws and on the corners of the prior box, so a value where the physics overflows is
  caught by ``validate``, not mid-run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from inference.config.checks import KeyPath, Source, type_name
from inference.errors import suggestion
from physics.domain import EDGE_TOL, G_D_MAX, M_NU4_RANGE, M_S_RANGE, U_MU4_RANGE
from physics.params import PAPER_UNIT_FACTORS
from priors import (
    PAPER_UNITS,
    PARAMETER_ORDER,
    PRIOR_KINDS,
    Fixed,
    Prior,
    PriorError,
    PriorSet,
    default_prior,
)

SECTION: KeyPath = ("parameters",)
ENTRY_KEYS = ("prior", "min", "max", "mean", "sigma", "fixed", "unit")
RANGE_KEYS = ("prior", "min", "max", "mean", "sigma")
PRIOR_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # kind -> (required, optional)
    "uniform": (("min", "max"), ()),
    "log_uniform": (("min", "max"), ()),
    "normal": (("mean", "sigma"), ("min", "max")),
}

#: masses covered by the scattering tables, in MeV: the physics layer's own bounds (physics.domain,
#: docs/physics/g2-scattering.md §7), converted from GeV
TABLE_RANGES: dict[str, tuple[float, float]] = {
    name: (round(lo / PAPER_UNIT_FACTORS[name], 9), round(hi / PAPER_UNIT_FACTORS[name], 9))
    for name, (lo, hi) in (("m_S", M_S_RANGE), ("m_nu4", M_NU4_RANGE))
}
#: physical domain of the other parameters in paper units: (low, high, reason); the same conditions as
#: physics.domain_violations, plus perturbativity of g_D (the paper's upper bound)
PHYSICAL_LIMITS: dict[str, tuple[float, float, str]] = {
    "U_mu4": (*U_MU4_RANGE, "|U_mu4| is the modulus of a mixing-matrix element, so it lies in [0, 1]"),
    "g_D": (0.0, G_D_MAX * (1.0 + EDGE_TOL),
            "g_D must be >= 0 and stay perturbative, g_D <= sqrt(4 pi) = 3.5449077 (the paper's bound)"),
    # L = -(kappa/4) S F F is an effective operator, kappa = 1/Lambda: it describes B and K decays only for
    # Lambda well above m_B ~ 5 GeV; |kappa| <= 100 TeV^-1 (Lambda >= 10 GeV) is 50 times the paper's range
    "kappa": (-100.0, 100.0, "kappa = 1/Lambda of the effective S F F operator must keep Lambda >= 10 GeV, above the "
              "B-meson mass, so |kappa| <= 100 TeV^-1 (the paper scans [0, 2])"),
}


def outside_physical_range(name: str, value: float) -> str | None:
    """Why ``value`` (paper units) of parameter ``name`` is outside the model's physical range, or None."""
    if not math.isfinite(value):
        return f"{name} = {value} is not a finite number"
    if name in TABLE_RANGES:
        lo, hi = TABLE_RANGES[name]
        if not lo <= value <= hi:
            return (f"{name} = {value:g} MeV is outside the scattering tables, which cover [{lo:g}, {hi:g}] MeV "
                    "(the neutrino-scattering ratios cannot be computed outside)")
    if name in PHYSICAL_LIMITS:
        lo, hi, reason = PHYSICAL_LIMITS[name]
        if not lo <= value <= hi:
            return f"{name} = {value:g} is outside the physical domain: {reason}"
    return None

_UNIT_FAMILIES: dict[str, dict[str, float]] = {  # unit -> factor to the paper unit of the family
    "MeV": {"MeV": 1.0, "GeV": 1e3, "keV": 1e-3, "eV": 1e-6, "TeV": 1e6},
    "TeV^-1": {"TeV^-1": 1.0, "GeV^-1": 1e3, "MeV^-1": 1e6, "PeV^-1": 1e-3},
    "1": {"1": 1.0, "%": 1e-2},
}


def normalise_unit(unit: str) -> str:
    """'1/TeV', 'TeV-1', 'TeV^{-1}' -> 'TeV^-1'; '', 'dimensionless', 'none' -> '1'."""
    u = unit.replace(" ", "").replace("{", "").replace("}", "").replace("**", "^")
    if u.lower() in {"", "1", "dimensionless", "none", "-"}:
        return "1"
    if u.startswith("1/"):
        u = u[2:] + "^-1"
    elif u.endswith("-1") and not u.endswith("^-1"):
        u = u[:-2] + "^-1"
    return u


def _check_unit(name: str, entry: Mapping[str, Any], path: KeyPath, src: Source) -> bool:
    """Raise unless the entry's unit (if any) is the paper unit of ``name``; True if a unit was given."""
    if "unit" not in entry:
        return False
    raw = entry["unit"]
    if raw is None or isinstance(raw, bool) or not isinstance(raw, (str, int)):
        src.fail((*path, "unit"), f"unit must be a string, got {type_name(raw)}",
                 f"Write unit: {PAPER_UNITS[name]}")
    expected = PAPER_UNITS[name]
    unit = normalise_unit(str(raw))
    if unit == expected:
        return True
    family = _UNIT_FAMILIES[expected]
    if unit in family:
        factor = family[unit]
        values = {k: entry[k] * factor for k in ("min", "max", "mean", "sigma", "fixed")
                  if isinstance(entry.get(k), (int, float)) and not isinstance(entry.get(k), bool)}
        converted = ", ".join(f"{k}: {v:.6g}" for k, v in values.items())
        shown = "dimensionless" if expected == "1" else expected
        src.fail((*path, "unit"),
                 f"{name} is given in {raw} but run files use {shown} for {name} "
                 f"(1 {unit} = {factor:g} {expected})",
                 f"Convert the numbers and write unit: {expected}" + (f" ({converted}, unit: {expected})"
                                                                     if converted else ""))
    src.fail((*path, "unit"), f"unit {raw!r} does not fit {name}, which is in {expected}",
             f"Write the values in {expected} and unit: {expected}")


def _mass_sanity(name: str, low: float, high: float, path: KeyPath, src: Source, unit_given: bool,
                 fixed: bool) -> None:
    """Masses: positive, and not written in GeV by mistake."""
    if name not in TABLE_RANGES:
        return
    lo_key, hi_key = ("fixed", "fixed") if fixed else ("min", "max")
    t_lo, t_hi = TABLE_RANGES[name]
    if math.isinf(low):
        src.fail((*path, "min"), f"an untruncated normal prior on {name} reaches negative masses",
                 f"Add min and max inside [{t_lo:g}, {t_hi:g}] MeV")
    if low < 0.0 or (low == 0.0 and fixed):
        src.fail((*path, lo_key), f"negative or zero mass: {name} {lo_key} = {low:g} MeV",
                 f"Masses are positive; use {name} in [{t_lo:g}, {t_hi:g}] MeV")
    if not unit_given and high < 1.0:
        src.fail((*path, hi_key), f"{name} {hi_key} = {high:g} looks like GeV; masses are in MeV",
                 f"Multiply by 1000 (for example {name} in [{t_lo:g}, {t_hi:g}] MeV)")


def _domain_limits(name: str, low: float, high: float, path: KeyPath, src: Source, fixed: bool) -> None:
    """Raise if the support [low, high] of ``name`` leaves the tables or the physical domain."""
    lo_key, hi_key = ("fixed", "fixed") if fixed else ("min", "max")
    if name in TABLE_RANGES:
        t_lo, t_hi = TABLE_RANGES[name]
        if low < t_lo or high > t_hi:
            src.fail((*path, lo_key if low < t_lo else hi_key),
                     f"{name} range [{low:g}, {high:g}] MeV leaves the scattering tables, which cover "
                     f"[{t_lo:g}, {t_hi:g}] MeV (the neutrino-scattering ratios cannot be computed outside)",
                     f"Keep {name} within [{t_lo:g}, {t_hi:g}] MeV")
    if name in PHYSICAL_LIMITS:
        p_lo, p_hi, reason = PHYSICAL_LIMITS[name]
        if low < p_lo:
            src.fail((*path, lo_key), f"{name} {lo_key} = {low:g} is outside the physical domain: {reason}",
                     f"Use {lo_key} >= {p_lo:g}"
                     + ("; a normal prior here needs a min" if math.isinf(low) else ""))
        if high > p_hi:
            shown = "3.5449077 (sqrt(4 pi))" if name == "g_D" else f"{p_hi:g}"
            src.fail((*path, hi_key), f"{name} {hi_key} = {high:g} is outside the physical domain: {reason}",
                     f"Use {hi_key} <= {shown}"
                     + ("; a normal prior here needs a max" if math.isinf(high) else ""))


def _parse_range(name: str, entry: Mapping[str, Any], path: KeyPath, src: Source) -> Prior:
    kind = entry.get("prior", "uniform")
    if kind == "fixed":
        src.fail((*path, "prior"), "'fixed' is not a prior kind",
                 f"Hold the parameter constant with {name}: {{fixed: VALUE}}")
    kind = src.choice(kind, (*path, "prior"), PRIOR_KEYS, "prior")
    required, optional = PRIOR_KEYS[kind]
    for key in entry:
        if key in RANGE_KEYS and key != "prior" and key not in required + optional:
            src.fail((*path, key), f"{key!r} does not belong to a {kind} prior",
                     f"A {kind} prior takes {', '.join(required + optional)}; remove {key!r}")
    for key in required:
        src.required(entry, path, key, f"A {kind} prior needs {' and '.join(required)}")
    values = {k: src.number(entry[k], (*path, k)) for k in required + optional if k in entry}
    if "min" in values and "max" in values and not values["min"] < values["max"]:
        src.fail((*path, "min"), f"min ({values['min']:g}) must be below max ({values['max']:g})",
                 "Swap them or widen the range; to hold a parameter constant use {fixed: VALUE}")
    if kind == "log_uniform" and values["min"] <= 0.0:
        src.fail((*path, "min"), f"a log_uniform prior needs min > 0, got {values['min']:g}",
                 "Use a small positive min such as 1e-4, or prior: uniform to include 0")
    if kind == "normal" and values["sigma"] <= 0.0:
        src.fail((*path, "sigma"), f"sigma must be > 0, got {values['sigma']:g}", "Use a positive width")
    try:
        return PRIOR_KINDS[kind](**values)
    except PriorError as exc:  # the checks above catch the common cases; this is the rest
        src.fail(path, str(exc), "Change the prior's numbers")


def _parse_entry(name: str, entry: Any, src: Source) -> Prior:
    """One parameter's entry -> its prior, with the unit and mass-sanity checks done."""
    path: KeyPath = (*SECTION, name)
    if entry is None or (isinstance(entry, Mapping) and not entry):
        return default_prior(name)
    if not isinstance(entry, Mapping):
        src.fail(path, f"the entry of {name} must be a mapping, got {type_name(entry)}",
                 f"Write {name}: {{fixed: VALUE}} or {name}: {{prior: uniform, min: LOW, max: HIGH}}")
    src.mapping(entry, path, f"the entry of {name}", "{prior: uniform, min: 0, max: 1}")
    src.known_keys(entry, path, ENTRY_KEYS)
    ranged = [k for k in RANGE_KEYS if k in entry]
    if "fixed" in entry and ranged:
        src.fail((*path, "fixed"), f"{name} has both a range ({', '.join(ranged)}) and 'fixed'",
                 f"Remove 'fixed' to sample {name}, or remove {', '.join(ranged)} to hold it fixed"
                 + (" (the kappa = 0 case is kappa: {fixed: 0})" if name == "kappa" else ""))
    unit_given = _check_unit(name, entry, path, src)
    if "fixed" in entry:
        value = src.number(entry["fixed"], (*path, "fixed"))
        _mass_sanity(name, value, value, path, src, unit_given, fixed=True)
        return Fixed(value)
    if not ranged:
        return default_prior(name)
    prior = _parse_range(name, entry, path, src)
    _mass_sanity(name, *prior.support, path, src, unit_given, fixed=False)
    return prior


def parse_parameters(raw: Any, src: Source) -> PriorSet:
    """The ``parameters:`` mapping -> PriorSet over all eight parameters in PARAMETER_ORDER."""
    if raw is None:
        raw = {}
    section = src.mapping(raw, SECTION, "parameters", "parameters: {kappa: {fixed: 0}}")
    for key in section:
        if key not in PARAMETER_ORDER:
            if key == "eta_u":
                src.fail((*SECTION, key), "eta_u is not a parameter of the fit (the paper sets eta_u = 0)",
                         "Remove eta_u")
            src.fail((*SECTION, key), f"unknown parameter {key!r}", suggestion(key, PARAMETER_ORDER))
    priors = {name: _parse_entry(name, section.get(name), src) for name in PARAMETER_ORDER}
    s_high, n_low = priors["m_S"].support[1], priors["m_nu4"].support[0]
    if s_high >= n_low:
        key = "fixed" if priors["m_S"].is_fixed else "max"
        src.fail((*SECTION, "m_S", key),
                 f"the m_S range reaches the m_nu4 range (m_S up to {s_high:g} MeV, m_nu4 from "
                 f"{n_low:g} MeV); points with m_S >= m_nu4 are outside the model's domain",
                 "Keep the m_S maximum below the m_nu4 minimum")
    for name, prior in priors.items():
        _domain_limits(name, *prior.support, (*SECTION, name), src, prior.is_fixed)
    if all(p.is_fixed for p in priors.values()):
        src.fail(SECTION, "every parameter is fixed: there is nothing to sample",
                 "Give at least one parameter a prior range")
    return PriorSet(priors)
