"""ModelParams: units are always explicit; the paper-unit and GeV constructors give the same numbers as before."""

from __future__ import annotations

import numpy as np
import pytest

from likelihoods import JointLikelihood
from physics import ModelParams, ParamUnitsError, benchmark
from physics.benchmarks import benchmark_table
from physics.params import PAPER_UNIT_FACTORS, PARAM_NAMES

BP1 = benchmark_table()["BP1"]  # paper units, Table II of arXiv:2310.15136


def test_paper_units_without_saying_so_is_an_error():
    """The trap of issue 13: ModelParams(**paper_units) used to read GeV silently and give log L = -inf."""
    with pytest.raises(ParamUnitsError, match="from_paper_units") as exc:
        ModelParams(**BP1)
    assert "TeV^-1" in str(exc.value) and "units='GeV'" in str(exc.value)


def test_positional_and_unknown_units_are_errors():
    with pytest.raises(ParamUnitsError, match="by name"):
        ModelParams(*BP1.values())  # type: ignore[arg-type]
    with pytest.raises(ParamUnitsError, match="unknown units 'MeV'"):
        ModelParams(**BP1, units="MeV")


def test_every_paper_unit_constructor_agrees_with_the_benchmark():
    ref = benchmark("BP1")
    for params in (ModelParams(**BP1, units="paper"), ModelParams.from_paper_units(BP1),
                   ModelParams.from_paper_units(**BP1)):
        for name in PARAM_NAMES:
            np.testing.assert_array_equal(getattr(params, name), getattr(ref, name))
    # the stored numbers are GeV: m_S = 38 MeV is 0.038 GeV, kappa = 1.22 TeV^-1 is 1.22e-3 GeV^-1
    assert ref.m_S[0] == pytest.approx(0.038) and ref.kappa[0] == pytest.approx(1.22e-3)


def test_gev_constructors_and_the_log_likelihood():
    gev = {n: v * PAPER_UNIT_FACTORS[n] for n, v in BP1.items()}
    a, b = ModelParams.from_gev(**gev), ModelParams(**gev, units="GeV")
    like = JointLikelihood.from_config("2023", "gaussian")
    ref = like.logpdf(benchmark("BP1"))
    assert np.isfinite(ref[0])
    np.testing.assert_array_equal(like.logpdf(a), ref)
    np.testing.assert_array_equal(like.logpdf(b), ref)
    # what the old silent default did: paper numbers read as GeV are outside the model
    assert like.logpdf(ModelParams(**BP1, units="GeV"))[0] == -np.inf


def test_names_are_checked_with_a_suggestion():
    bad = {("m_s" if n == "m_S" else n): v for n, v in BP1.items()}
    with pytest.raises(ValueError, match="did you mean 'm_s' -> 'm_S'"):
        ModelParams.from_paper_units(bad)
    with pytest.raises(ValueError, match="given twice"):
        ModelParams.from_paper_units(BP1, kappa=1.0)


def test_arrays_broadcast_and_take():
    values = {**BP1, "m_S": [20.0, 38.0, 60.0]}
    p = ModelParams.from_paper_units(values)
    assert p.size == 3 and np.all(p.kappa == 1.22e-3)
    sub = p.take([2])
    assert sub.size == 1 and sub.m_S[0] == pytest.approx(0.060)
    np.testing.assert_array_equal(ModelParams.from_array(p.to_array()).to_array(), p.to_array())
