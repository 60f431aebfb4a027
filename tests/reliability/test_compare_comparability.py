"""`compare` refuses runs that cannot be compared and says when a run did not converge (issue 12, item 5).
Before the fix a 2023-data run against a 2025-data run gave "decisive evidence" without a warning."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import assert_clean, cli, fake_result, resolved, write_run

from inference.analysis.comparability import (
    DifferenceKind,
    IncomparableRunsError,
    blocking,
    comparability,
    require_comparable,
)
from inference.samplers import StopKind, StopReason

KAPPA_FREE = {"kappa": {"prior": "uniform", "min": 0.0, "max": 2.0, "unit": "TeV^-1"}}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return resolved(write_run(tmp_path_factory.mktemp("cmp")))


def changed(config: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(config)
    node = out
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return out


@pytest.mark.parametrize(("path", "value", "kind"), [
    (("likelihood", "data"), "2025", DifferenceKind.DATA),
    (("likelihood", "mode"), "cuts", DifferenceKind.MODE),
    (("likelihood", "terms"), {"NA62 K+->pi+X(invisible)": {"enabled": True}}, DifferenceKind.TERMS),
    (("theory", "options", "r_normalisation"), "absolute", DifferenceKind.THEORY),
    (("theory", "scenario"), "other", DifferenceKind.SCENARIO),
    (("parameters", "eta_d"), {"prior": "uniform", "min": 0.0, "max": 0.2}, DifferenceKind.PRIOR),
])
def test_each_kind_of_difference_blocks(base: dict[str, Any], path: tuple[str, ...], value: Any,
                                        kind: DifferenceKind) -> None:
    other = changed(base, *path, value=value)
    found = comparability(base, other)
    assert [d.kind for d in found] == [kind] and found[0].blocking
    assert found[0].key.startswith(".".join(path[:2])) and found[0].key in str(found[0]) and " in B" in str(found[0])
    with pytest.raises(IncomparableRunsError) as err:
        require_comparable(base, other)
    assert err.value.differences == found


def test_the_tested_parameter_is_a_model_difference(base: dict[str, Any]) -> None:
    free = changed(base, "parameters", "kappa", value=KAPPA_FREE["kappa"])
    found = require_comparable(free, base)
    assert [d.kind for d in found] == [DifferenceKind.FIXED_IN_ONE] and not blocking(found)
    assert comparability(base, copy.deepcopy(base)) == ()


def test_cli_refuses_2023_against_2025_and_force_says_so_loudly(tmp_path: Path, base: dict[str, Any]) -> None:
    a = fake_result(tmp_path / "a", changed(base, "parameters", "kappa", value=KAPPA_FREE["kappa"]), logz=-5.0)
    b = fake_result(tmp_path / "b", changed(base, "likelihood", "data", value="2025"), logz=-35.0)
    code, out, err = cli("compare", str(a), str(b))
    assert code == 2 and out == ""
    assert "cannot be compared" in err and "data set: likelihood.data is '2023' in A but '2025' in B" in err, err
    assert "--force" in err and "ln B" not in err
    assert_clean(err)
    code, out, err = cli("compare", str(a), str(b), "--force")
    assert code == 0, err
    assert "THESE RUNS ARE NOT COMPARABLE" in out and "likelihood.data" in out
    assert "Savage-Dickey: skipped (the runs are not comparable" in out
    code, out, _ = cli("compare", str(a), str(b), "--force", "--json")
    data = json.loads(out)
    assert data["incomparable"] and "skipped" in data["savage_dickey"]


def test_cli_says_when_a_run_did_not_converge(tmp_path: Path, base: dict[str, Any]) -> None:
    a = fake_result(tmp_path / "a", changed(base, "parameters", "kappa", value=KAPPA_FREE["kappa"]), logz=-5.0,
                    stop=StopReason(StopKind.ITERATION_CAP, "stopped at the iteration cap"))
    b = fake_result(tmp_path / "b", base, logz=-6.0)
    code, out, err = cli("compare", str(a), str(b), "--method", "reflection")
    assert code == 0, err
    assert "WARNING: run A did not converge" in out and "run B did not converge" not in out
    assert "THESE RUNS ARE NOT COMPARABLE" not in out
