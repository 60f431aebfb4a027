"""The seven benchmark points of the paper's Table II (data in ``physics/data/benchmarks.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from physics.params import PARAM_NAMES, ModelParams


@cache
def benchmark_table() -> dict[str, dict[str, float]]:
    """Benchmark name -> parameters in the paper's units (kappa TeV^-1, masses MeV)."""
    text = resources.files("physics.data").joinpath("benchmarks.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {name: {p: float(vals[p]) for p in PARAM_NAMES} for name, vals in raw.items() if name.startswith("BP")}


@cache
def printed_half_units() -> dict[str, float]:
    """Half a unit of the last printed digit of each parameter in Table II (paper units), from
    ``benchmarks.yaml``: the rounding band of the published points."""
    text = resources.files("physics.data").joinpath("benchmarks.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["printed_half_unit"]
    return {p: float(raw[p]) for p in PARAM_NAMES}


BENCHMARK_NAMES: tuple[str, ...] = tuple(benchmark_table())


def benchmark(name: str) -> ModelParams:
    """One benchmark point (N = 1) by name, e.g. ``benchmark("BP1")``."""
    table = benchmark_table()
    if name not in table:
        raise KeyError(f"unknown benchmark {name!r}; choose one of {', '.join(table)}")
    return ModelParams.from_paper_units(table[name])


def all_benchmarks() -> ModelParams:
    """All seven benchmark points as one batch (N = 7), in BP1..BP7 order."""
    table = benchmark_table()
    return ModelParams.from_paper_units({p: [table[b][p] for b in table] for p in PARAM_NAMES})
