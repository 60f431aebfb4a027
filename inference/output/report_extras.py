"""The report's sections for `darkportal fit` (bestfit.json), `darkportal islands` (islands.json) and
`darkportal sensitivity` (sensitivity/), when a results folder has them. Kept apart from inference.output.report so
that the page's layout stays in one module."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

def bestfit_table(run_dir: Path) -> tuple[list[dict[str, Any]], str] | None:
    """Rows (term, value, pull, chi2, SM pull, SM chi2) and a one-line summary from RUN/bestfit.json, or None."""
    path = Path(run_dir) / "bestfit.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        sm = {t["name"]: t for t in doc["sm_only"]["terms"]}
        rows = [{"term": t["name"], "value": t["value"], "pull": t["pull"], "chi2": t["chi2"],
                 "SM pull": sm[t["name"]]["pull"], "SM chi2": sm[t["name"]]["chi2"]}
                for t in doc["best_fit"]["terms"] if t["enabled"]]
        params = ", ".join(f"{k} = {v:.4g}" for k, v in doc["best_fit"]["parameters"].items())
        text = (f"Best fit (darkportal fit): chi2 = {doc['best_fit']['chi2']:.3f}, SM only (all couplings zero) "
                f"chi2 = {doc['sm_only']['chi2']}, Delta chi2 = {doc['delta_chi2']}; at {params}.")
    except (KeyError, TypeError, ValueError) as exc:  # a damaged or older file: the report goes on without it
        log.warning("%s not shown: %s", path, exc)
        return None
    return rows, text


def sensitivity_parts(run_dir: Path) -> tuple[list[dict[str, Any]], Path | None] | None:
    """Rows of RUN/sensitivity/sensitivity.csv and the tornado PNG, or None."""
    from inference.output.report import read_csv_rows

    folder = Path(run_dir) / "sensitivity"
    csv_path = folder / "sensitivity.csv"
    if not csv_path.exists():
        return None
    keep = ("variant", "ln_B", "ln_B_err", "delta_ln_B", "method_A", "ess_A", "method_B", "ess_B")
    rows = [{k: r.get(k) for k in keep} for r in read_csv_rows(csv_path)]
    png = folder / "sensitivity.png"
    return rows, png if png.exists() else None


def islands_table(run_dir: Path) -> tuple[list[dict[str, Any]], str] | None:
    """Rows (island, weight, errors, samples, best log L, the 95 % range of each parameter) and a one-line
    summary from RUN/islands.json (`darkportal islands`), or None when the folder has none."""
    path = Path(run_dir) / "islands.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = []
        for isl in doc["islands"]:
            row: dict[str, Any] = {"island": isl["index"], "weight": isl["weight"],
                                   "± (bootstrap)": isl["weight_err_bootstrap"], "± (Kish)": isl["weight_err_kish"],
                                   "samples": isl["n_samples"], "best log L": isl["best_point"]["loglike"]}
            for r in isl["ranges"]:
                row[f"{r['parameter']} (95 %)"] = (r["q2.5"], r["q97.5"])
            rows.append(row)
        method = doc["method"]
        text = (f"Islands (darkportal islands): {doc['n_islands']} separate region(s) of the posterior, found by "
                f"DBSCAN on the {method['k']}-nearest-neighbour graph of the standardised unit cube (distance cut "
                f"{method['eps']:.3g}); weights with bootstrap errors; best points and their observables in "
                f"{path.with_suffix('.md').name}.")
    except (KeyError, TypeError, ValueError) as exc:  # a damaged or older file: the report goes on without it
        log.warning("%s not shown: %s", path, exc)
        return None
    return rows, text
