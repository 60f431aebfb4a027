"""Theory predictions of the dark-scalar model of Datta, Marfatia and Mukherjee (arXiv:2310.15136).

Imports nothing else of darkportal. Entry points: :class:`ModelParams`, :class:`TheoryOptions`,
:func:`predict`, :data:`REGISTRY`, :func:`domain_violations`, and the benchmark points.
The registry (and with it every physics module) is imported on first use, so that
``import physics.params`` stays light.
"""

from typing import TYPE_CHECKING, Any

from physics.benchmarks import BENCHMARK_NAMES, all_benchmarks, benchmark
from physics.options import SCENARIOS, TheoryOptions, scenario
from physics.params import PARAM_NAMES, ModelParams, ParamUnitsError

if TYPE_CHECKING:
    from physics.registry import REGISTRY, Observable, Prediction, domain_violations, in_domain, predict

_REGISTRY_NAMES = ("REGISTRY", "Observable", "Prediction", "domain_violations", "in_domain", "predict")

__all__ = [
    "BENCHMARK_NAMES", "PARAM_NAMES", "REGISTRY", "SCENARIOS", "ModelParams", "Observable", "ParamUnitsError",
    "Prediction",
    "TheoryOptions", "all_benchmarks", "benchmark", "domain_violations", "in_domain", "predict", "scenario",
]


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        from physics import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'physics' has no attribute {name!r}")
