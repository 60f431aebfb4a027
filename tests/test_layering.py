"""The dependency direction stated in README.md (Layout): physics <- likelihoods <- inference; priors stands
alone but for the error base class (``physics.errors``, which every package's errors derive from); only
inference knows samplers, ArviZ or plotting. Checked on the import statements of every module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"physics", "likelihoods", "priors", "inference"}
HEAVY = {"emcee", "dynesty", "arviz", "corner", "matplotlib", "mpi4py", "h5py", "xarray", "h5netcdf"}
ALLOWED_OURS = {
    "physics": {"physics"},
    "likelihoods": {"likelihoods", "physics"},
    "priors": {"priors"},
    "inference": OURS,
}
# single modules a package may import beyond ALLOWED_OURS (the shared error base and did-you-mean helper)
ALLOWED_MODULES = {"priors": {"physics.errors"}}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` (``import a.b`` and ``from a.b import c`` give ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imported_top_levels(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


@pytest.mark.parametrize("package", sorted(OURS))
def test_layering(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"package {package} has no modules"
    for path in files:
        extra = ALLOWED_MODULES.get(package, set())
        imported = {name.split(".")[0] for name in imported_modules(path) if name not in extra}
        ours = imported & OURS
        assert ours <= ALLOWED_OURS[package], f"{path.relative_to(ROOT)} imports {sorted(ours - ALLOWED_OURS[package])}"
        if package != "inference":
            heavy = imported & HEAVY
            assert not heavy, f"{path.relative_to(ROOT)} imports sampler/plotting packages {sorted(heavy)}"


def test_checker_catches_a_violation(tmp_path):
    """The checker itself must see both import forms."""
    f = tmp_path / "m.py"
    f.write_text("import emcee\nfrom likelihoods.terms import X\nfrom . import local\n")
    assert imported_top_levels(f) == {"emcee", "likelihoods"}
    assert imported_modules(f) == {"emcee", "likelihoods.terms"}


@pytest.mark.parametrize("package", sorted(OURS))
def test_packages_resolve_inside_repository(package):
    """physics, priors and inference are also names of unrelated PyPI packages: ours must win."""
    module = __import__(package)
    assert Path(module.__file__).resolve().parent == ROOT / package
