"""The scripts in benchmarks/ and tools/ still run against today's code (they are not imported by the package,
so nothing else would notice when a refactoring breaks them: run_all.py broke twice that way). Nothing here is
timed: the table's numbers are not checked, only that the script produces every row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("tools/*.py")])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_script_answers_help(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_benchmark_table_runs_small() -> None:
    """run_all.py's likelihood part on a few points: every row of both runs comes out."""
    done = subprocess.run([sys.executable, "benchmarks/run_all.py", "--no-runs", "--single", "200", "--batch", "3000"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for run in ("kappa_nonzero", "kappa_zero"):
        rows = [line for line in done.stdout.splitlines() if line.startswith(f"| {run}:")]
        assert len(rows) >= 9, done.stdout
        assert not any("nan" in row.lower() for row in rows), rows


def test_the_expensive_run_file_of_the_benchmark_turns_the_two_loop_terms_on() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run_all
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from inference.config.runfile import load_run_config

    config = load_run_config(run_all.expensive_run_file())
    assert config.theory.theory_options().g2_two_loop_bz is True
    assert config.sampler.settings["maxcall"] == 8000
