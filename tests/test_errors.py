"""One exception base class for the whole project, errors that carry their data, and one did-you-mean."""

from __future__ import annotations

import ast
import importlib
import math
from pathlib import Path

import pytest

from physics.errors import DarkportalError, NonFiniteLikelihoodError, closest, did_you_mean, suggestion

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("physics", "likelihoods", "priors", "inference")
# error classes in modules another engineer owns, still to be moved onto the base (class name -> module)


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class) of every class of ours that names an exception base (``...Error``, ``...Exception``,
    ``...Interrupted``) or whose own name says it is one."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = [ast.unparse(b).split(".")[-1] for b in node.bases]
                if any(b.endswith(("Error", "Exception", "Interrupted")) for b in [node.name, *bases]):
                    found.append((module, node.name))
    return found


def test_the_scan_finds_the_known_errors() -> None:
    names = {name for _, name in _exception_classes()}
    assert {"RunConfigError", "LikelihoodConfigError", "PriorError", "ParamUnitsError",
            "NonFiniteLikelihoodError", "ResultsError", "RunInterrupted"} <= names


@pytest.mark.parametrize("module, name", _exception_classes())
def test_every_error_derives_from_the_one_base(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert isinstance(cls, type) and issubclass(cls, BaseException), (module, name)
    assert issubclass(cls, DarkportalError), f"{module}.{name} does not derive from DarkportalError"


def test_one_base_and_one_non_finite_error_everywhere() -> None:
    import inference.errors
    import inference.samplers.problem
    import likelihoods
    import likelihoods.errors

    assert inference.errors.DarkportalError is DarkportalError
    assert likelihoods.NonFiniteLikelihoodError is NonFiniteLikelihoodError
    assert likelihoods.errors.NonFiniteLikelihoodError is NonFiniteLikelihoodError
    assert inference.samplers.problem.NonFiniteLikelihoodError is NonFiniteLikelihoodError
    # what callers caught before stays caught
    assert issubclass(NonFiniteLikelihoodError, FloatingPointError)
    assert issubclass(NonFiniteLikelihoodError, ArithmeticError)


def test_the_base_module_imports_nothing_of_ours() -> None:
    """priors may import physics.errors only because that module stands on the standard library alone."""
    tree = ast.parse((ROOT / "physics" / "errors.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported <= {"__future__", "difflib", "collections"}, imported


def test_non_finite_error_carries_its_data() -> None:
    exc = NonFiniteLikelihoodError("log_likelihood", math.nan, {"alpha": 0.9, "beta": 2.0})
    assert exc.source == "log_likelihood" and math.isnan(exc.value)
    assert exc.point == {"alpha": 0.9, "beta": 2.0} and exc.term is None
    assert str(exc) == "log_likelihood returned nan at the point alpha=0.9, beta=2"
    term = NonFiniteLikelihoodError("Delta_a_mu", math.inf, {"kappa": 0.6}, index=3, units="paper units",
                                    term="Delta_a_mu", observable="Delta_a_mu", prediction=math.inf)
    assert term.term == "Delta_a_mu" and term.index == 3
    assert str(term) == "term 'Delta_a_mu' returned inf for Delta_a_mu = inf at point 3 (paper units) kappa=0.6"
    assert str(NonFiniteLikelihoodError("t", math.nan, {}, index=2)) == "t returned nan at point index 2"


@pytest.mark.parametrize("word, choices, expected", [
    ("gausian", ["gaussian", "cuts"], "gaussian"),
    ("GAUSSIAN", ["gaussian", "cuts"], "gaussian"),  # case does not matter
    ("mS", ["m_S", "m_nu4", "kappa"], "m_S"),
    ("2O25", ["2023", "2025"], "2025"),
    ("zzz", ["gaussian", "cuts"], None),
    (3, ["gaussian"], None),  # not a word: nothing is close
    ("x", [], None),
])
def test_closest(word: object, choices: list[str], expected: str | None) -> None:
    assert closest(word, choices) == expected


def test_did_you_mean_and_suggestion_texts() -> None:
    assert did_you_mean("intervall", ["interval", "gaussian"]) == " (did you mean 'interval'?)"
    assert did_you_mean("zzz", ["interval"]) == ""
    assert suggestion("nlife", ["nlive", "dlogz"]) == "Did you mean 'nlive'? Use one of 'nlive', 'dlogz'"
    assert suggestion("zzz", ["nlive"], "a setting:") == "Use a setting: 'nlive'"


def test_did_you_mean_is_written_once() -> None:
    """difflib's matcher is called in physics/errors.py only; every other module goes through it."""
    callers = {str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
               if "get_close_matches" in p.read_text(encoding="utf-8")}
    assert "physics/errors.py" in callers
    assert callers == {"physics/errors.py"}, sorted(callers)
