"""``darkportal predict``: every observable and every constraint at one parameter point.

    darkportal predict --point BP1
    darkportal predict --params kappa=1.22,eta_d=0.17,eta_c=-0.13,eta_t=0.0054,g_D=2.18,U_mu4=4.86e-3,m_S=38,m_nu4=413
    darkportal predict --point BP7 --data 2025 --mode gaussian --scenario absolute --json

Parameters are in the paper's units (kappa in TeV^-1, masses in MeV). The text output has two tables:
observables (SM, NP, total, unit) and constraints (condition, value, pass/fail, pull in sigma, margin);
``--json`` prints the same as one JSON object. Non-finite numbers appear in JSON as null (NaN) or the
strings "inf" / "-inf".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import physics
import physics.miniboone
from inference.config.params import outside_physical_range
from inference.config.sections import DEFAULT_MODE  # --mode's default: a run file's default
from inference.errors import DarkportalError
from likelihoods import MEASUREMENT_SETS, MODES, JointLikelihood, LikelihoodConfigError
from physics.errors import did_you_mean
from physics.params import PAPER_UNITS, PARAM_NAMES, ModelParams

#: the text tables fit a terminal this wide
TABLE_WIDTH = 100


class PredictUsageError(DarkportalError, ValueError):
    """Bad command-line input (unknown benchmark, malformed or incomplete --params)."""


def parse_params(text: str) -> dict[str, float]:
    """'kappa=1.22,eta_d=0.17,...' -> {name: value}; all eight parameters, paper units."""
    values: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        if "=" not in item:
            raise PredictUsageError(f"--params: expected name=value, got {item!r}")
        name, _, raw = (s.strip() for s in item.partition("="))
        if name not in PARAM_NAMES:
            raise PredictUsageError(f"--params: unknown parameter {name!r}{did_you_mean(name, PARAM_NAMES)}"
                                    f"; expected {', '.join(PARAM_NAMES)}")
        if name in values:
            raise PredictUsageError(f"--params: {name} given twice")
        try:
            values[name] = float(raw)
        except ValueError:
            raise PredictUsageError(f"--params: {name}={raw!r} is not a number") from None
    for name, value in values.items():
        reason = outside_physical_range(name, value)
        if reason is not None:
            raise PredictUsageError(f"--params: point outside the model's domain: {reason}; "
                                    f"give {name} inside that range")
    missing = [n for n in PARAM_NAMES if n not in values]
    if missing:
        raise PredictUsageError(f"--params: missing {', '.join(missing)} (all eight are required, paper units: "
                                + ", ".join(f"{n} [{PAPER_UNITS[n]}]" for n in PARAM_NAMES) + ")")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal predict",
                                description="Every observable and constraint at one parameter point.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--point", choices=physics.BENCHMARK_NAMES, help="a benchmark point of Table II")
    where.add_argument("--params", help="kappa=..,eta_d=..,eta_c=..,eta_t=..,g_D=..,U_mu4=..,m_S=..,m_nu4=.. "
                                        "(kappa in TeV^-1, masses in MeV)")
    p.add_argument("--data", default="2023", choices=MEASUREMENT_SETS, help="measurement set (default 2023)")
    p.add_argument("--scenario", default="paper", choices=tuple(physics.SCENARIOS),
                   help="theory scenario (default paper)")
    p.add_argument("--mode", default=DEFAULT_MODE, choices=MODES,
                   help=f"likelihood mode of the total log L (default {DEFAULT_MODE}, as in run files; "
                        "cuts = the paper's pass/fail conditions)")
    p.add_argument("--softening", type=float, default=0.0, help="cuts-mode softening width (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return p


def _num(x: Any) -> Any:
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def r_conventions(options: physics.TheoryOptions) -> dict[str, Any]:
    """The conventions of R_MiniBooNE in force and the calibration they imply (JSON-ready).

    calibration_factor: the geometric mean over BP1-BP7 of R as computed with these conventions, the number
    the "calibrated" normalisation divides R by (``physics.miniboone.calibration_factor``, same name, same
    value); constant_needed = 1 / calibration_factor (docs/physics/README.md item 9,
    docs/physics/g2-scattering.md §5.5).
    """
    geo = physics.miniboone.calibration_factor(options)
    return {"r_normalisation": options.r_normalisation, "nuclear_form_factor": options.nuclear_form_factor,
            "zp_denominator": options.zp_denominator, "nucleon_ff_incoherent": options.nucleon_ff_incoherent,
            "calibration_factor": geo, "constant_needed": 1.0 / geo}


def evaluate_point(paper_params: Mapping[str, float], data_set: str, scenario_name: str, mode: str,
                   softening: float = 0.0, likelihood: JointLikelihood | None = None) -> dict[str, Any]:
    """Everything ``predict`` shows, as a JSON-ready dict (one point).

    likelihood: a likelihood already built (a run's, with its term overrides, measurements file and theory
    options; then ``data_set``, ``mode`` and ``softening`` are read from it); default: built from the arguments.
    """
    params = ModelParams.from_paper_units({k: [v] for k, v in paper_params.items()})
    violations = [reason for reason, mask in physics.domain_violations(params).items() if np.any(mask)]
    if violations:
        raise PredictUsageError("point outside the model's domain: " + "; ".join(violations))
    if likelihood is None:
        options = physics.scenario(scenario_name)
        like = JointLikelihood.from_config(data_set, mode, softening=softening, options=options)
    else:
        like, options = likelihood, likelihood.options or physics.scenario(scenario_name)
        data_set, mode, softening = like.data_set, like.mode, like.softening
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a NaN is reported below, not as numpy's warnings
        preds = physics.predict(params, None, options)
    broken = [name for name, p in preds.items() if name not in PARAM_NAMES and np.any(np.isnan(p.total))]
    if broken:
        raise PredictUsageError(f"the physics cannot be computed at this point: {', '.join(broken[:4])}"
                                + (f" and {len(broken) - 4} more" if len(broken) > 4 else "")
                                + " come out NaN (an overflow); move the parameters towards the paper's ranges")
    observables = {
        name: {"sm": _num(p.sm) if p.sm is not None else None, "np": _num(p.np[0]), "total": _num(p.total[0]),
               "unit": physics.REGISTRY[name].unit}
        for name, p in preds.items() if name not in PARAM_NAMES}
    constraints = [
        {"name": r.name, "observable": r.observable, "condition": r.condition, "value": _num(r.value[0]),
         "passed": bool(r.passed[0]), "pull": _num(r.pull[0]), "margin": _num(r.margin[0]),
         "relative_margin": _num(r.relative_margin[0]), "enabled": r.enabled, "applies_to": r.applies_to,
         "kind": r.kind, "unit": r.unit, "loglike": _num(r.loglike[0]), "source": r.source}
        for r in like.report(preds)]
    enabled = [c for c in constraints if c["enabled"]]
    total = sum(float(r.loglike[0]) for r in like.report(preds, include_disabled=False))
    return {
        "params": dict(paper_params), "param_units": dict(PAPER_UNITS), "data_set": data_set,
        "scenario": scenario_name, "mode": mode, "softening": softening,
        "r_normalisation": options.r_normalisation, "r_conventions": r_conventions(options),
        "observables": observables, "constraints": constraints,
        "all_passed": all(c["passed"] for c in enabled), "loglike": _num(total),
    }


def _fmt(x: Any, width: int = 11) -> str:
    if x is None:
        return "-".rjust(width)
    if isinstance(x, str):
        return x.rjust(width)
    return f"{x:.4g}".rjust(width)


def render_text(result: Mapping[str, Any], label: str, width: int = TABLE_WIDTH) -> str:
    """The two tables of ``predict`` as text, every line at most ``width`` characters: a row whose name or
    condition would run past it continues on the next line, indented."""
    other = "cuts: the paper's pass/fail conditions" if result["mode"] == "gaussian" else "gaussian: Gaussian terms"
    default = "default, as in run files; " if result["mode"] == DEFAULT_MODE else ""
    lines = [f"darkportal predict: {label}   (data {result['data_set']}, scenario {result['scenario']})"]
    lines += _wrap(f"likelihood mode: {result['mode']} ({default}--mode {other})", width)
    lines += _wrap("parameters: " + ", ".join(
        f"{k} = {v:g}" + ("" if result["param_units"][k] == "1" else f" {result['param_units'][k]}")
        for k, v in result["params"].items()), width)
    rc = result["r_conventions"]
    lines += _wrap(f"R_MiniBooNE: r_normalisation {rc['r_normalisation']} (form factor {rc['nuclear_form_factor']}, "
                   f"Z' denominator {rc['zp_denominator']}, nucleon FF in incoherent part "
                   f"{'on' if rc['nucleon_ff_incoherent'] else 'off'}); calibration factor (geometric mean of R "
                   f"over BP1-BP7) {rc['calibration_factor']:.4f} (docs/physics/g2-scattering.md §5.5-5.6)", width)
    lines += ["", "Observables", f"{'name':<26} {'SM':>11} {'NP':>11} {'total':>11}  unit"]
    for name, o in result["observables"].items():
        lines += _fit(f"{name:<26} {_fmt(o['sm'])} {_fmt(o['np'])} {_fmt(o['total'])}  {o['unit']}", width)
    lines += [""]
    lines += _wrap(f"Constraints ({result['data_set']} set): pull in gaussian-mode sigma; margin = distance to "
                   "the nearest edge relative to it, > 0 passes (absolute margins in --json)", width)
    name_w = min(_NAME_WIDTH, max((len(c["name"]) for c in result["constraints"]), default=4))
    lines.append(f"{'name':<{name_w}} {'value':>10} {'pass':>4} {'pull':>7} {'margin':>8}  condition")
    for c in result["constraints"]:
        status = ("yes" if c["passed"] else "NO") if c["enabled"] else ("off" if c["passed"] else "off!")
        pull = "-" if c["pull"] is None else f"{c['pull']:+.2f}"
        rel = "-" if c["relative_margin"] is None else f"{100 * c['relative_margin']:+.1f}%"
        if len(c["name"]) > name_w:  # a long (user) term name gets a line of its own
            lines += _wrap(c["name"], width)
            name = ""
        else:
            name = c["name"]
        row = f"{name:<{name_w}} {_fmt(c['value'], 10)} {status:>4} {pull:>7} {rel:>8}"
        if len(row) + 2 + len(c["condition"]) <= width:
            lines.append(f"{row}  {c['condition']}")
        else:
            lines.append(row)
            lines += _wrap(c["condition"], width, indent=" " * 4)
    n_on = sum(c["enabled"] for c in result["constraints"])
    n_pass = sum(c["enabled"] and c["passed"] for c in result["constraints"])
    lines += [""]
    lines += _wrap(f"{n_pass}/{n_on} enabled conditions pass; "
                   f"log L ({result['mode']} mode) = {_loglike_text(result['loglike'])}"
                   + ("   ('off!' = a disabled term that would fail)" if any(
                       not c["enabled"] and not c["passed"] for c in result["constraints"]) else ""), width)
    return "\n".join(lines)


_NAME_WIDTH = 28


def _loglike_text(value: Any) -> str:
    if value is None:
        return "nan"
    return value if isinstance(value, str) else f"{value:.4f}"


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent or "  ",
                         break_on_hyphens=False) or [""]


def _fit(line: str, width: int) -> list[str]:
    """A table row as it is when it fits, else wrapped (a very long observable name or unit)."""
    return [line] if len(line) <= width else _wrap(line, width)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``darkportal predict ...``; returns the exit code (0 ok, 2 usage error)."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        if args.point:
            values = dict(physics.benchmarks.benchmark_table()[args.point])
            label = args.point
        else:
            values = parse_params(args.params)
            label = "--params"
        result = evaluate_point(values, args.data, args.scenario, args.mode, args.softening)
    except (PredictUsageError, LikelihoodConfigError) as exc:
        print(f"darkportal predict: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        print(render_text(result, label))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
