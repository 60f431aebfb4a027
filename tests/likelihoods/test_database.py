"""The measurement database (likelihoods/data/measurements.yaml) loads, and every entry has a source."""

from __future__ import annotations

import pytest

from likelihoods import (
    MEASUREMENT_SETS,
    LikelihoodConfigError,
    MeasurementDataError,
    available_terms,
    load_measurements,
)
from likelihoods.database import SOURCE_PATTERN, _parse_entry, check_data_set
from physics.constants import load_sm_predictions

PAPER_TABLE_I = [  # the 15 rows of Table I of arXiv:2310.15136, by observable
    "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)", "BR(B0->K*0ee)[0.03,1]", "BR(Bs->gammagamma)",
    "BR(Bs->mumu)", "BR(KL->pi0nunu)", "BR(KL->pi0ee)", "BR(KL->pi0gammagamma)", "BR(KS->pi0gammagamma)",
    "BR(K+->pi+gammagamma)", "BR(K+->mu+nuee)[mee>140]", "DeltaM_Bs", "DeltaM_K", "Delta_a_mu",
]


def test_sets():
    assert MEASUREMENT_SETS == ("2023", "2025")


@pytest.mark.parametrize("data_set", MEASUREMENT_SETS)
def test_every_entry_has_a_source(data_set):
    entries = load_measurements(data_set)
    assert entries, "empty measurement set"
    for e in entries:
        assert SOURCE_PATTERN.search(e.source), f"{e.name}: source {e.source!r}"
        assert e.table_row and e.paper_condition and e.note, e.name
        if e.sm is not None:
            assert SOURCE_PATTERN.search(e.sm.source), f"{e.name}: SM source {e.sm.source!r}"
    names = [e.name for e in entries]
    assert len(names) == len(set(names))


def test_source_pattern_accepts_arxiv_pdg_doi_only():
    for good in ("arXiv:2311.14647", "arXiv:hep-ex/0309072", "PDG 2022", "doi:10.1088/1742-6596/800/1/012035"):
        assert SOURCE_PATTERN.search(good)
    for bad in ("", "Belle II 2023", "paper", "arXiv:23.1"):
        assert not SOURCE_PATTERN.search(bad)


def test_2023_set_has_every_table_i_row_and_the_extra_conditions():
    entries = {e.name: e for e in load_measurements("2023")}
    observables = {e.observable for e in entries.values()}
    assert set(PAPER_TABLE_I) <= observables
    for extra in ("BR(B+->K+S) < 10%", "BR(B0->K*0S) < 10%", "BR(B+->K*+S) < 10%", "ctau_S < 0.1 mm",
                  "R_MiniBooNE window", "R_CHARMII < 1", "|U_mu4| lepton universality"):
        assert entries[extra].enabled
    assert not entries["NA62 K+->pi+X(invisible)"].enabled  # off in the paper's set
    # docs/physics/flavour.md §6 readings
    assert entries["BR(B+->K+nunu)"].applies_to == "total"
    assert entries["BR(B0->K*0nunu)"].applies_to == "np"
    assert entries["BR(KL->pi0nunu)"].applies_to == "total"
    assert entries["BR(B0->K*0ee)[0.03,1]"].spec().cut_edges() == pytest.approx((2.2225e-7, 4.0434e-7))
    assert entries["Delta_a_mu"].spec().cut_edges() == pytest.approx((2.01e-9, 2.97e-9))
    assert entries["R_MiniBooNE window"].spec().cut_edges() == (0.95, 1.05)
    assert entries["|U_mu4| lepton universality"].data == {"limit": 0.07, "cl": 0.99}


def test_2025_set_updates():
    old = {e.name: e for e in load_measurements("2023")}
    new = {e.name: e for e in load_measurements("2025")}
    assert set(old) < set(new)
    assert new["BR(KL->pi0nunu)"].data["limit"] == 2.2e-9 and new["BR(KL->pi0nunu)"].source == "arXiv:2411.11237"
    assert new["BR(B+->K+nunu)"].kind == "asymmetric_gaussian"
    assert new["BR(B+->K+nunu)"].applies_to == "total"  # kept from the base entry
    assert new["Delta_a_mu"].data["central"] == pytest.approx(0.375e-9)
    assert new["NA62 K+->pi+X(invisible)"].enabled
    assert new["NA62 K+->pi+X(invisible)"].window_observable == "m_S"
    assert new["BR(K+->pi+nunu)"].source == "arXiv:2412.12015" and not new["BR(K+->pi+nunu)"].enabled
    assert new["BR(B0->K*0nunu)"] == old["BR(B0->K*0nunu)"]


# (value, error_up, error_down) of the SM prediction each term quoted when measurements.yaml still carried its
# own copy of Table I's SM values: moving them into physics/data/sm_predictions.yaml changed no number
SM_QUOTED = {
    "BR(B+->K+nunu)": (5.58e-06, 3.8e-07, 3.8e-07), "BR(B0->K*0nunu)": (9.2e-06, 1e-06, 1e-06),
    "BR(B+->K*+nunu)": (9.921e-06, 1.078e-06, 1.078e-06), "BR(B0->K*0ee)[0.03,1]": (2.43e-07, 6.6e-08, 4.7e-08),
    "BR(Bs->gammagamma)": (5e-07, 0.0, 0.0), "BR(Bs->mumu)": (3.57e-09, 1.7e-10, 1.7e-10),
    "BR(KL->pi0nunu)": (3.4e-11, 6e-12, 6e-12), "BR(KL->pi0ee)": (3.2e-11, 1.2e-11, 8e-12),
    "DeltaM_Bs": (18.4, 0.7, 1.2), "DeltaM_K": (4.7e9, 1.8e9, 1.8e9), "BR(K+->pi+nunu)": (8.4e-11, 1e-11, 1e-11),
}


def test_terms_quote_the_physics_sm_record_with_unchanged_numbers():
    # the SM value a term quotes is the record physics adds to the NP part (sm_predictions.yaml), not a copy
    physics_sm = load_sm_predictions()
    quoted = set()
    for data_set in MEASUREMENT_SETS:
        for e in load_measurements(data_set):
            if e.sm is None:
                continue
            assert e.sm is physics_sm[e.observable], e.name
            assert (e.sm.value, e.sm.error_up, e.sm.error_down) == SM_QUOTED[e.observable], e.name
            quoted.add(e.observable)
    assert quoted == set(SM_QUOTED)
    # a term quotes the SM exactly where physics has a prediction to quote (none is left out)
    assert {e.observable for ds in MEASUREMENT_SETS for e in load_measurements(ds)
            if e.sm is None} & set(physics_sm) == set()


def test_available_terms_and_unknown_set():
    assert "R_MiniBooNE window" in available_terms("2023")
    with pytest.raises(LikelihoodConfigError, match="did you mean '2023'"):
        check_data_set("2O23")


def test_kind_change_derives_numbers_from_the_data():
    entries = {e.name: e for e in load_measurements("2023")}
    kp = entries["BR(B+->K+nunu)"]
    assert kp.spec("interval").cut_edges() == pytest.approx((1.6e-5, 3.0e-5))
    assert kp.spec("hard_bound").cut_edges() == pytest.approx((1.6e-5, 3.0e-5))
    kst = entries["BR(B0->K*0nunu)"]
    assert kst.spec("hard_bound").cut_edges() == (float("-inf"), 1.8e-5)
    ctau = entries["ctau_S < 0.1 mm"]
    assert ctau.spec("upper_limit", {"cl": 0.9}).limit == 0.1
    with pytest.raises(LikelihoodConfigError, match="needs limit and cl"):
        ctau.spec("upper_limit")
    with pytest.raises(LikelihoodConfigError, match="needs central") as info:
        ctau.spec("gaussian")
    assert info.value.term == "ctau_S < 0.1 mm" and str(info.value).count("ctau_S") == 1  # named once
    with pytest.raises(LikelihoodConfigError, match="did you mean 'interval'") as info:
        ctau.spec("intervall")
    assert (info.value.term, info.value.key) == ("ctau_S < 0.1 mm", "kind")


GOOD = {"name": "x", "observable": "BR(B0->K*0nunu)", "unit": "1", "applies_to": "np", "kind": "upper_limit",
        "data": {"limit": 1.8e-5, "cl": 0.9}, "sm": None, "source": "arXiv:1702.03224", "table_row": "r",
        "paper_condition": "c", "note": "n", "enabled": True}


@pytest.mark.parametrize("change, message", [
    ({"source": "Belle 2017"}, "not an arXiv id"),
    ({"data": {"limit": "1.8e-5", "cl": 0.9}}, "expected a number"),
    ({"data": {"limt": 1.8e-5, "cl": 0.9}}, "data: expected a mapping"),
    ({"data": {"limit": 1.8e-5}}, "needs limit and cl"),
    ({"colour": "red"}, "unknown key"),
    ({"sm": {"value": 1.0, "error": 0.1}}, r"sm: expected true or null.*sm_predictions\.yaml"),
    ({"observable": "R_MiniBooNE", "sm": True}, "'R_MiniBooNE' has no SM prediction"),
    ({"enabled": "yes"}, "enabled: expected true or false"),
])
def test_malformed_entries_are_rejected(change, message):
    raw = {**GOOD, **change}
    with pytest.raises(MeasurementDataError, match=message):
        _parse_entry(raw, "test")
    assert _parse_entry(GOOD, "test").name == "x"


def test_entry_without_source_is_rejected():
    raw = {k: v for k, v in GOOD.items() if k != "source"}
    with pytest.raises(MeasurementDataError, match="missing"):
        _parse_entry(raw, "test")
