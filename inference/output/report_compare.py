"""The comparison part of a report of several runs: ln Z of each, ln B against the first run, and the
Savage-Dickey cross-check of the first two (from inference.analysis.compare), as table rows and plain sentences."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference.analysis import compare
from inference.output.results import ResultsError, read_results

log = logging.getLogger(__name__)


def _num(v: Any, fmt: str = ".3f") -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def comparison(dirs: Sequence[Path], labels: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, notes): one row per run with ln Z and ln B = ln Z(first run) - ln Z(run); notes on the
    Savage-Dickey estimate of the first two runs when it applies."""
    rows: list[dict[str, Any]] = []
    try:
        base = compare.evidence_of(read_results(dirs[0]))
    except ResultsError as exc:
        return [], [f"No evidence comparison: {exc}"]
    first = labels[0]
    rows.append({"run": first, "ln Z": base.logz, "ln Z error": base.logz_err,
                 "spread over resampled runs": base.logz_resampled_std, f"ln B ({first} vs run)": None,
                 "ln B error": None, "Jeffreys scale": "(reference)"})
    for d, label in zip(dirs[1:], labels[1:], strict=True):
        try:
            ev = compare.evidence_of(read_results(d))
        except ResultsError as exc:
            log.warning("comparison with %s skipped: %s", d, exc)
            continue
        bf = compare.bayes_factor(base, ev)
        rows.append({"run": label, "ln Z": ev.logz, "ln Z error": ev.logz_err,
                     "spread over resampled runs": ev.logz_resampled_std, f"ln B ({first} vs run)": bf.ln_b,
                     "ln B error": bf.ln_b_err, "Jeffreys scale": bf.jeffreys.replace(" for A", f" for {first}")
                     .replace(" for B", f" for {label}")})
    notes = ["ln B = ln Z(first run) - ln Z(run); errors are the samplers' ln Z errors in quadrature. Words: "
             "Jeffreys (1961) as tabulated by Kass & Raftery (1995)."]
    try:
        notes += savage_dickey_notes(compare.compare(dirs[0], dirs[1]), labels[0], labels[1])
    except Exception as exc:  # the table above stays; the cross-check is optional
        log.warning("Savage-Dickey cross-check skipped: %s", exc)
        notes.append(f"Savage-Dickey cross-check not computed: {str(exc).splitlines()[0] if str(exc) else exc}")
    return rows, notes


def savage_dickey_notes(result: compare.Comparison, a: str, b: str) -> list[str]:
    """The Savage-Dickey part of a `compare` result as sentences (no fixed-width text, nothing cut off)."""
    sd = result.savage_dickey
    if isinstance(sd, compare.SavageDickeySkipped):
        return [f"Savage-Dickey cross-check: skipped ({sd.skipped})."]
    lo, hi = sd.prior_range
    out = [f"Savage-Dickey cross-check: ln B ({a} vs {b}) = {_num(sd.ln_b_ab)} ± {_num(sd.ln_b_err)}, "
           f"from the posterior density at the prior edge ({_num(sd.posterior_density_at_edge, '.4g')}) over "
           f"the prior density ({_num(sd.prior_density_at_edge, '.4g')}, range [{lo:g}, {hi:g}] from the "
           f"{sd.prior_range_source}).",
           f"Edge density by {sd.method}.", f"This {sd.note}."]
    if sd.warning is not None:
        out.append(sd.warning + ".")
    return out
