"""The exact package versions of the running environment: recorded in every result's provenance and written
to ``requirements-lock.txt`` (``make lock``), so that a user can rebuild the environment a result came from.

    python -m inference.output.environment                          # print the lock to stdout
    python -m inference.output.environment --write requirements-lock.txt

The list is what ``pip freeze`` prints, read from ``importlib.metadata`` (no subprocess): every installed
distribution as ``name==version``, sorted by name, without darkportal itself (installed from the source tree).
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata
from pathlib import Path

#: distributions left out of the lock: this project, and pip's own tooling of the virtual environment
EXCLUDED = frozenset({"darkportal", "pip", "setuptools", "wheel"})


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed_packages() -> dict[str, str]:
    """{canonical name: version} of every distribution importable here (first one found per name wins, as
    for imports), sorted by name, EXCLUDED left out."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = _canonical(name)
        if key not in EXCLUDED and key not in found:
            found[key] = dist.version
    return dict(sorted(found.items()))


def environment_record() -> dict[str, object]:
    """What provenance records of the environment: interpreter, platform and every package version."""
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "platform": platform.platform(), "machine": platform.machine(),
            "packages": installed_packages()}


def lock_text() -> str:
    """``requirements-lock.txt``: a header saying where it came from, then one ``name==version`` a line."""
    env = environment_record()
    header = [
        "# Exact versions of darkportal's environment, written by `make lock` (python -m inference.output.environment)",
        f"# on Python {env['python']} ({env['implementation']}), {platform.system()} {env['machine']}. Some wheels "
        "(numba, llvmlite, h5py, mpich)",
        "# are platform-specific: this rebuilds that platform's environment. Rebuild:",
        "#   python3.12 -m venv .venv && .venv/bin/pip install -r requirements-lock.txt",
        "#   .venv/bin/pip install --no-deps -e .",
    ]
    packages = env["packages"]
    assert isinstance(packages, dict)
    return "\n".join(header + [f"{name}=={version}" for name, version in packages.items()]) + "\n"


def parse_lock(text: str) -> dict[str, str]:
    """{canonical name: version} of a lock file's ``name==version`` lines (comments and blanks skipped)."""
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise ValueError(f"lock file line {number}: expected name==version, got {raw!r}")
        out[_canonical(name.strip())] = version.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m inference.output.environment",
                                 description="Print (or write) the exact package versions of this environment.")
    ap.add_argument("--write", type=Path, default=None, help="write the lock to this file instead of stdout")
    args = ap.parse_args(argv)
    text = lock_text()
    if args.write is None:
        sys.stdout.write(text)
    else:
        tmp = args.write.with_name(f".{args.write.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.write)
        print(f"wrote {args.write} ({len(parse_lock(text))} packages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
