"""Fixtures shared by the tests of the commands that read a finished run (fit, profile, sensitivity, islands)."""

from __future__ import annotations

from pathlib import Path

import pytest
from quickruns import quick_run


@pytest.fixture(scope="session")
def kappa_free_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real run with kappa free (the paper's ranges; runs/quick.yaml fixes kappa to 0), made once per
    session: 60 live points, dlogz 1. The tests that use it only add files to its folder (bestfit.json,
    sensitivity/, islands.json) and never change the result itself."""
    return quick_run(tmp_path_factory.mktemp("kappa_free"), "q", {"parameters": {}}, nlive=60, dlogz=1.0)


@pytest.fixture(scope="session")
def kappa_zero_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real run of runs/quick.yaml (kappa = 0) with 100 live points and dlogz 0.3, made once per
    session: the reweighting tests compare it with reruns, the sensitivity tests pair it with kappa_free_run.
    Its folder is only read."""
    return quick_run(tmp_path_factory.mktemp("kappa_zero"), "base", nlive=100, dlogz=0.3, seed=1)
