"""kill -9 of a real `darkportal run` (the physics likelihood, dynesty, the CLI) and `--resume`.

The run is killed once its first checkpoint exists; the resumed run must finish with results identical
to an uninterrupted run of the same file (the checkpoint holds the random state), so no completed work is
lost. Also exercises the pickling of the run model into dynesty's checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN_FILE = """\
name: killme
seed: 7
parameters:
  kappa: {fixed: 0}
likelihood: {data: "2023", mode: gaussian}
sampler:
  name: dynesty
  settings: {nlive: 150, dlogz: 0.3, checkpoint_every: 0.3}
"""


def darkportal(*args: str) -> list[str]:
    return [sys.executable, "-m", "inference.cli", *args]


@pytest.mark.slow
def test_kill_and_resume_a_real_run(tmp_path: Path) -> None:
    run_file = tmp_path / "killme.yaml"
    run_file.write_text(RUN_FILE)
    ref, out = tmp_path / "reference", tmp_path / "killed"
    subprocess.run(darkportal("run", str(run_file), "--out", str(ref)), check=True, capture_output=True)

    proc = subprocess.Popen(darkportal("run", str(run_file), "--out", str(out)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "dynesty.save").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    time.sleep(0.4)  # past one more checkpoint interval
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "COMPLETE").exists()

    again = subprocess.run(darkportal("run", str(run_file), "--out", str(out)), capture_output=True, text=True)
    assert again.returncode != 0 and "--resume" in again.stderr  # an unfinished run is not restarted silently
    subprocess.run(darkportal("run", str(run_file), "--out", str(out), "--resume"), check=True,
                   capture_output=True)

    a = json.loads((ref / "evidence.json").read_text())
    b = json.loads((out / "evidence.json").read_text())
    assert b["logz"] == a["logz"] and b["ncall"] == a["ncall"] and b["niter"] == a["niter"]
