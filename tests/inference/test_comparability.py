"""The comparability check of two resolved run files (inference.analysis.comparability)."""

from __future__ import annotations

import copy

import pytest
from quickruns import REPO

from inference.analysis.comparability import IncomparableRunsError, check_comparable, differences, parameters_under_test
from inference.config.runfile import load_run_config

A = load_run_config(REPO / "runs" / "kappa_nonzero.yaml").to_dict()
B = load_run_config(REPO / "runs" / "kappa_zero.yaml").to_dict()


def test_the_default_pair_differs_only_in_kappa() -> None:
    assert parameters_under_test(A, B) == ("kappa",)
    assert check_comparable(A, B) == ("kappa",)


@pytest.mark.parametrize(("path", "value", "key"), [
    (("likelihood", "data"), "2025", "likelihood.data"),
    (("likelihood", "mode"), "cuts", "likelihood.mode"),
    (("theory", "options", "r_normalisation"), "absolute", "theory.options.r_normalisation"),
    (("parameters", "eta_d", "max"), 1.5, "parameters.eta_d"),
])
def test_other_differences_are_refused_and_named(path: tuple[str, ...], value: object, key: str) -> None:
    b = copy.deepcopy(B)
    node = b
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    assert [d.key for d in differences(A, b)] == [key]
    with pytest.raises(IncomparableRunsError, match=key.replace(".", r"\.")) as err:
        check_comparable(A, b, "runA", "runB")
    assert "runs runA and runB cannot be compared" in str(err.value) and err.value.differences[0].key == key


def test_different_fixed_values_are_refused() -> None:
    a, b = copy.deepcopy(B), copy.deepcopy(B)
    b["parameters"]["kappa"] = {"fixed": 1.0}
    assert parameters_under_test(a, b) == ()
    with pytest.raises(IncomparableRunsError, match=r"parameters\.kappa"):
        check_comparable(a, b)
