"""Small real physics runs for tests: `darkportal run` on a run file of few live points (as runs/quick.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from inference.cli.run import main as run_main

REPO = Path(__file__).resolve().parents[1]


def quick_run_file(folder: Path, name: str, changes: dict[str, Any] | None = None, nlive: int = 100,
                   dlogz: float = 0.5, seed: int = 1, maxcall: int | None = None) -> Path:
    """runs/quick.yaml with the sampler settings replaced and ``changes`` merged in at the top level."""
    doc = yaml.safe_load((REPO / "runs" / "quick.yaml").read_text(encoding="utf-8"))
    doc.update(name=name, output=str(folder / name), seed=seed)
    doc["sampler"]["settings"] = {"nlive": nlive, "dlogz": dlogz, "checkpoint_every": 1000}
    if maxcall is not None:
        doc["sampler"]["settings"]["maxcall"] = maxcall
    for key, value in (changes or {}).items():
        doc[key] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def quick_run(folder: Path, name: str, changes: dict[str, Any] | None = None, **settings: Any) -> Path:
    """Run the quick run file and return its results folder."""
    path = quick_run_file(folder, name, changes, **settings)
    assert run_main([str(path)]) == 0
    return folder / name
