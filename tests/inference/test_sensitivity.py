"""`darkportal sensitivity` on two small real runs (kappa free, kappa = 0): rows, methods, files, refusals.

Reweighted rows against reruns are checked in test_reweight.py (analytic) and test_cmd_reweight.py (physics);
here a rerun row and the bookkeeping: the baseline reweights with ratio 1, a variant that does not touch a run
leaves it unchanged, a wider prior is rerun with the reason, the files are written.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from inference.analysis.comparability import IncomparableRunsError
from inference.analysis.sensitivity import default_variants, sensitivity
from inference.cli.sensitivity import main
from inference.output.report import collect_report_data
from inference.output.results import read_results


@pytest.fixture(scope="module")
def runs(kappa_free_run: Path, kappa_zero_run: Path) -> tuple[Path, Path]:
    # A: kappa free in [0, 2] TeV^-1; B: kappa = 0 (both shared by the session, tests/inference/conftest.py)
    return kappa_free_run, kappa_zero_run


def test_rows_methods_and_errors(runs: tuple[Path, Path]) -> None:
    res_a, res_b = read_results(runs[0]), read_results(runs[1])
    variants = {v.name: v for v in default_variants(res_a.config)}
    assert len(variants) >= 12 and "drop Delta_a_mu" in variants and "cuts" in variants
    assert variants["baseline, quick rerun"].force_rerun
    chosen = [variants[n] for n in ("baseline", "kappa upper edge halved", "kappa upper edge doubled")]
    rows = sensitivity(res_a, res_b, chosen, min_ess=30, nlive=60)
    base, halved, doubled = rows
    for est, res in ((base.a, res_a), (base.b, res_b)):  # same code, same run file: ratio 1
        assert est.method == "reweight"
        assert est.logz == pytest.approx(res.evidence.logz, abs=1e-9)
    assert halved.b.method == "unchanged" and halved.a.method == "reweight"
    assert doubled.a.method == "rerun (dynesty)" and "wider" in doubled.a.note
    assert np.isfinite(doubled.a.logz) and doubled.a.logz_err > 0
    assert all(r.ln_b_err > 0 for r in rows)


def test_cli_files_report_and_refusal(runs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import inference.analysis.sensitivity as sens

    keep = ("baseline", "kappa upper edge halved", "drop BR(B+->K*+nunu)")
    original = sens.default_variants
    monkeypatch.setattr(sens, "default_variants", lambda c, t=("kappa",): [v for v in original(c, t) if v.name in keep])
    assert main([str(runs[0]), str(runs[1]), "--min-ess", "30", "--jobs", "1"]) == 0  # -> A/sensitivity
    out_dir = runs[0] / "sensitivity"
    with open(out_dir / "sensitivity.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["variant"] for r in rows] == list(keep)
    assert all(r["method_A"] and r["ess_A"] for r in rows)
    assert "| variant | ln B |" in (out_dir / "sensitivity.md").read_text()
    assert (out_dir / "sensitivity.png").stat().st_size > 0 and (out_dir / "sensitivity.pdf").exists()
    data = collect_report_data([runs[0]])  # the report shows the table and the tornado figure
    assert len(data.runs[0].tables["Sensitivity of ln B to the prior and the likelihood (darkportal sensitivity)"]) \
        == 3
    assert "sensitivity" in data.figures
    res_a, res_b = read_results(runs[0]), read_results(runs[1])
    other = copy.deepcopy(res_b.config)
    other["likelihood"]["data"] = "2025"
    res_b = dataclasses.replace(res_b, config=other)  # Results is frozen: a changed copy
    with pytest.raises(IncomparableRunsError, match=r"likelihood\.data"):
        sensitivity(res_a, res_b)
