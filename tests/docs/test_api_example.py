"""docs/examples/api_example.py, the notebook-style tour of inference.api, runs from start to end and does what it
says. (It lives in docs/examples/, not docs/: a script's folder comes first on sys.path, and docs/physics/ would
shadow the physics package.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_api_example_runs(tmp_path):
    env = {**os.environ, "DARKPORTAL_PROGRESS": "lines"}
    script = ROOT / "docs" / "examples" / "api_example.py"
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "Run('kappa_nonzero'" in out and "log L = " in out and "Constraints (2023 set)" in out
    assert "fails: [" in out and "ln Z = " in out and "mean" in out
    folder = tmp_path / "notebook_kappa_zero"
    assert (folder / "COMPLETE").exists()
    evidence = json.loads((folder / "evidence.json").read_text())
    assert evidence["sampler"] == "dynesty" and evidence["logz"] < 0
