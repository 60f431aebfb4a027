"""The environment lock: every installed package's exact version in provenance and in requirements-lock.txt."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from inference.output.environment import environment_record, installed_packages, lock_text, parse_lock
from inference.output.results import collect_provenance

ROOT = Path(__file__).resolve().parents[2]


def test_installed_packages_are_what_importlib_sees():
    packages = installed_packages()
    for name in ("numpy", "scipy", "dynesty", "emcee", "arviz", "numba", "tqdm"):
        assert packages[name] == metadata.version(name)
    assert "darkportal" not in packages and "pip" not in packages
    assert list(packages) == sorted(packages)


def test_lock_text_round_trips():
    assert parse_lock(lock_text()) == installed_packages()


def test_parse_lock_rejects_a_line_without_a_pin():
    with pytest.raises(ValueError, match="line 2: expected name==version"):
        parse_lock("# header\nnumpy>=1.26\n")


def test_provenance_records_the_environment():
    prov = collect_provenance(1, "dynesty", {})
    assert prov["environment"]["packages"] == installed_packages()
    assert prov["environment"]["python"] == environment_record()["python"]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def test_shipped_lock_pins_every_dependency_within_its_bounds():
    """requirements-lock.txt (make lock) pins each dependency and extra of pyproject.toml at a version that
    satisfies pyproject's bounds, so that installing from it gives a working darkportal."""
    lock = parse_lock((ROOT / "requirements-lock.txt").read_text(encoding="utf-8"))
    for req in _requirements():
        name = req.name.lower().replace("_", "-")
        assert name in lock, f"requirements-lock.txt does not pin {req.name}; run `make lock`"
        assert req.specifier.contains(Version(lock[name]), prereleases=True), (
            f"requirements-lock.txt pins {name}=={lock[name]}, outside pyproject's {req}; run `make lock`")
