"""Table III-style benchmark predictions and posterior intervals, and their three writers."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from inference.output import tables
from physics import BENCHMARK_NAMES

# docs/physics/flavour.md §7 (benchmark-point table), SM + NP totals where the row says so; compared at 1 %
FLAVOUR_MD_S7 = {
    "BR(K+->pi+nunu)": [7.88e-9, 8.23e-9, 9.63e-9, 8.32e-9, 7.59e-9, 8.71e-9, 1.10e-8],
    "BR(B+->K+nunu)": [1.86e-5, 2.07e-5, 2.31e-5, 1.94e-5, 2.02e-5, 1.99e-5, 2.51e-5],
    "BR(Bs->invisible)": [1.68e-6, 1.14e-7, 4.19e-7, 3.95e-6, 2.06e-8, 4.01e-6, 1.92e-6],
    "BR(Bs->nuDnuD)": [2.03e-6, 1.40e-6, 1.64e-6, 5.66e-6, 6.83e-7, 4.02e-6, 1.93e-6],
    "ctau_S": [0.0447, 0.0979, 0.0167, 0.0722, 0.0427, 0.0441, 0.0103],
}


@pytest.fixture(scope="module")
def bench() -> list[dict]:
    return tables.benchmark_table()


def test_benchmark_table_rows_and_columns(bench):
    assert [r["observable"] for r in bench] == list(tables.TABLE3_OBSERVABLES)
    assert list(bench[0]) == ["observable", "unit", "SM", *BENCHMARK_NAMES]
    assert len(BENCHMARK_NAMES) == 7
    for row in bench:
        values = np.array([row[bp] for bp in BENCHMARK_NAMES])
        assert np.all(np.isfinite(values)) and np.all(values >= 0), row["observable"]


def test_benchmark_table_matches_flavour_md(bench):
    by_name = {r["observable"]: r for r in bench}
    for name, ref in FLAVOUR_MD_S7.items():
        got = [by_name[name][bp] for bp in BENCHMARK_NAMES]
        np.testing.assert_allclose(got, ref, rtol=0.01, err_msg=name)


def test_benchmark_table_sm_column(bench):
    by_name = {r["observable"]: r for r in bench}
    assert by_name["BR(K+->pi+nunu)"]["SM"] == pytest.approx(8.4e-11)  # Table I, arXiv:1503.02693
    assert by_name["BR(Bs->invisible)"]["SM"] is None
    # kappa = 0 at BP6 and BP7: no S -> gamma gamma, so no K -> pi gamma gamma from S (docs/physics/flavour.md §7)
    assert by_name["BR(KS->pi0gammagamma)"]["BP6"] == 0.0 and by_name["BR(KS->pi0gammagamma)"]["BP7"] == 0.0


def test_benchmark_table_unknown_observable():
    with pytest.raises(KeyError, match="unknown observable"):
        tables.benchmark_table(observables=["BR(B+->K+nunuu)"])


def test_posterior_intervals_of_a_gaussian():
    """Equal weights: mean 0, median 0, 68 % ~ [-1, 1], 95 % ~ [-1.96, 1.96] for a unit normal."""
    rng = np.random.default_rng(11)
    rows = tables.posterior_intervals({"x": rng.normal(size=200_000)})
    (row,) = rows
    assert row["mean"] == pytest.approx(0.0, abs=0.01) and row["median"] == pytest.approx(0.0, abs=0.01)
    assert (row["q16"], row["q84"]) == pytest.approx((-0.994, 0.994), abs=0.015)
    assert (row["q2.5"], row["q97.5"]) == pytest.approx((-1.96, 1.96), abs=0.03)
    assert list(row) == ["quantity", "unit", "mean", "median", "q2.5", "q16", "q84", "q97.5"]


def test_posterior_intervals_use_weights():
    """Weights 1:3 on the values 0 and 1: weighted mean 0.75, median 1."""
    x = np.array([0.0] * 50 + [1.0] * 50)
    w = np.array([1.0] * 50 + [3.0] * 50)
    (row,) = tables.posterior_intervals({"m_S": x}, w)
    assert row["mean"] == pytest.approx(0.75)
    assert row["median"] == pytest.approx(1.0)
    assert row["unit"] == "MeV"
    with pytest.raises(ValueError, match="weights"):
        tables.posterior_intervals({"x": x}, w[:10])


def test_posterior_intervals_skip_non_finite():
    x = np.array([1.0, 2.0, np.nan, 3.0])
    (row,) = tables.posterior_intervals({"x": x})
    assert row["mean"] == pytest.approx(2.0)
    assert tables.posterior_intervals({"y": np.full(3, np.nan)}) == []


def test_writers(bench):
    md = tables.to_markdown(bench)
    lines = md.strip().splitlines()
    assert len(lines) == 2 + len(bench)
    assert r"BR(B0->K\*0nunu)" in md  # asterisks escaped for markdown
    assert lines[2].startswith("| BR(K+->pi+nunu) | 1 | 8.4e-11 | 7.885e-09 |")

    rows = list(csv.DictReader(io.StringIO(tables.to_csv(bench))))
    assert len(rows) == len(bench)
    assert float(rows[0]["BP1"]) == bench[0]["BP1"]  # full precision survives
    assert rows[5]["SM"] == ""  # Bs -> invisible has no SM value

    tex = tables.to_latex(bench, caption="Predictions")
    assert tex.count(r"\\") == len(bench) + 1
    assert r"$\mathcal{B}(K^+\to\pi^+\nu\bar\nu)$" in tex
    assert r"$7.88\times10^{-9}$" in tex
    assert r"\caption{Predictions}" in tex and r"\begin{tabular}{llrrrrrrrr}" in tex


def test_latex_escape():
    assert tables.latex_escape("kappa_zero 5% & #1") == r"kappa\_zero 5\% \& \#1"
    tex = tables.to_latex([{"quantity": "not_registered", "unit": "MeV", "mean": 1.0}])
    assert r"not\_registered & MeV & $1$ \\" in tex


def test_latex_number_formats():
    assert tables.latex_number(None) == "--"
    assert tables.latex_number(0.0) == "0"
    assert tables.latex_number(0.0447) == "$0.0447$"
    assert tables.latex_number(-2.5e-12) == r"$-2.5\times10^{-12}$"
    assert tables.latex_number(float("nan")) == "--"


def test_write_table(tmp_path, bench):
    paths = tables.write_table(bench, tmp_path, "benchmark_predictions")
    assert sorted(p.name for p in paths) == ["benchmark_predictions.csv", "benchmark_predictions.md",
                                             "benchmark_predictions.tex"]
    assert all(p.stat().st_size > 500 for p in paths)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
