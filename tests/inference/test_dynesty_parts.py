"""Nested runs in parts (one per rank or machine) merged afterwards: the same as `nruns`, and refused when
the parts do not belong together (inference.samplers.dynesty_parts)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference.samplers import run_sampler
from inference.samplers.dynesty_parts import (
    PART_RECORD,
    PartsError,
    config_digest,
    merge_parts,
    parts_folder,
    run_part,
)
from inference.samplers.problem import SamplingProblem


class Box:
    def transform(self, u: np.ndarray) -> np.ndarray:
        return -5.0 + 10.0 * np.asarray(u)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.where(np.all(np.abs(x) <= 5.0, axis=1), -3 * np.log(10.0), -np.inf)


def gauss(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(x)
    return np.asarray(-0.5 * np.sum(((x - 0.5) / 0.7) ** 2, axis=1) - 1.5 * np.log(2 * np.pi * 0.49))


PROBLEM = SamplingProblem(("a", "b", "c"), Box().transform, Box().logpdf, gauss)
SETTINGS = {"nlive": 60, "dlogz": 0.5, "n_resample": 0, "checkpoint_every": 1e9, "progress_every": 1e9}
RESOLVED = {"name": "t", "output": "x", "seed": 3, "sampler": {"name": "dynesty", "settings": SETTINGS}}
SEED = 3


def two_parts(tmp_path: Path, settings: dict, digest: str | None = None) -> Path:
    parts = parts_folder(tmp_path / "out")
    for rank in (0, 1):
        run_part(PROBLEM, settings, parts / f"rank-{rank}", SEED, rank, 2, digest or config_digest(RESOLVED))
    return parts


@pytest.mark.parametrize("refine", ["none", "importance"])
def test_two_parts_merged_equal_nruns_2(tmp_path: Path, refine: str) -> None:
    settings = {**SETTINGS, "refine": refine, "refine_adapt": 2}
    parts = two_parts(tmp_path, settings)
    merged = merge_parts(PROBLEM, settings, parts, SEED, config_digest(RESOLVED))
    once = run_sampler("dynesty", PROBLEM, {**settings, "nruns": 2}, tmp_path / "nruns", SEED)
    assert merged.info["nruns"] == once.info["nruns"] == 2
    assert merged.info["ncall"] == once.info["ncall"]
    assert merged.logz == pytest.approx(once.logz, abs=1e-12) and merged.logz_err == pytest.approx(once.logz_err)
    order_a, order_b = np.lexsort(merged.samples.T), np.lexsort(once.samples.T)  # the same rows, up to ordering
    np.testing.assert_allclose(merged.samples[order_a], once.samples[order_b])
    np.testing.assert_allclose(merged.weights[order_a], once.weights[order_b], rtol=1e-10)


def test_parts_of_another_run_file_are_refused(tmp_path: Path) -> None:
    parts = two_parts(tmp_path, SETTINGS)
    other = {**RESOLVED, "sampler": {"name": "dynesty", "settings": {**SETTINGS, "nlive": 61}}}
    with pytest.raises(PartsError) as err:
        merge_parts(PROBLEM, SETTINGS, parts, SEED, config_digest(other))
    assert err.value.key == "config_digest" and err.value.path.name == "rank-0"
    # name, description and output do not change what is sampled: the same digest
    assert config_digest({**RESOLVED, "output": "elsewhere", "name": "u"}) == config_digest(RESOLVED)


def test_a_part_from_another_run_file_among_good_ones_is_refused(tmp_path: Path) -> None:
    parts = two_parts(tmp_path, SETTINGS)
    record = json.loads((parts / "rank-1" / PART_RECORD).read_text())
    record["config_digest"] = "0" * 64
    (parts / "rank-1" / PART_RECORD).write_text(json.dumps(record))
    with pytest.raises(PartsError) as err:
        merge_parts(PROBLEM, SETTINGS, parts, SEED, config_digest(RESOLVED))
    assert err.value.key == "config_digest" and err.value.path.name == "rank-1"


def test_missing_or_unfinished_or_reseeded_parts_are_refused(tmp_path: Path) -> None:
    parts = two_parts(tmp_path, SETTINGS)
    digest = config_digest(RESOLVED)
    with pytest.raises(PartsError) as err:  # the run file's seed is not the parts'
        merge_parts(PROBLEM, SETTINGS, parts, SEED + 1, digest)
    assert err.value.key == "seed"
    (parts / "rank-1" / PART_RECORD).unlink()  # as a part that has not finished
    with pytest.raises(PartsError) as err:
        merge_parts(PROBLEM, SETTINGS, parts, SEED, digest)
    assert err.value.key == "incomplete" and err.value.path.name == "rank-1"
    shutil.rmtree(parts / "rank-1")
    shutil.rmtree(parts / "rank-0")
    with pytest.raises(PartsError) as err:
        merge_parts(PROBLEM, SETTINGS, parts, SEED, digest)
    assert err.value.key == "missing"


def test_a_lone_rank_of_two_is_refused(tmp_path: Path) -> None:
    parts = parts_folder(tmp_path / "out")
    run_part(PROBLEM, SETTINGS, parts / "rank-1", SEED, 1, 2, config_digest(RESOLVED))
    with pytest.raises(PartsError) as err:
        merge_parts(PROBLEM, SETTINGS, parts, SEED, config_digest(RESOLVED))
    assert err.value.key == "missing" and err.value.path.name == "rank-0"
    with pytest.raises(PartsError):
        run_part(PROBLEM, SETTINGS, parts / "rank-2", SEED, 2, 2, config_digest(RESOLVED))


def test_cli_parts_then_merge_give_the_nruns_result(tmp_path: Path) -> None:
    """`darkportal run --rank I --nranks 2` twice, then `darkportal merge`: a complete results folder whose
    ln Z is that of `nruns: 2` run in one process; a finished part is not overwritten without --force."""
    from inference.cli import main
    from inference.config.runfile import load_run_config
    from inference.output.results import read_results
    from inference.samplers.model import RunModel

    quick = Path(__file__).resolve().parents[2] / "runs" / "quick.yaml"
    out = tmp_path / "q"
    for rank in ("0", "1"):
        assert main(["run", str(quick), "--rank", rank, "--nranks", "2", "--out", str(out)]) == 0
    assert (tmp_path / "q.parts" / "rank-1" / PART_RECORD).exists() and not out.exists()
    assert main(["run", str(quick), "--rank", "0", "--nranks", "2", "--out", str(out)]) != 0  # finished part
    assert main(["merge", str(quick), "--out", str(out)]) == 0
    merged = read_results(out)
    config = load_run_config(quick)
    once = run_sampler("dynesty", RunModel(config).problem(), {**config.sampler.settings, "nruns": 2},
                       tmp_path / "once", config.seed)
    assert merged.evidence.logz == pytest.approx(once.logz, abs=1e-12)
    assert merged.provenance.sampler_info["nruns"] == 2


def test_cli_part_resume_needs_the_same_run_file(tmp_path: Path) -> None:
    """An unfinished part (checkpoint, no part.json) resumes only with the run file it was started from."""
    from inference.cli import main

    quick = Path(__file__).resolve().parents[2] / "runs" / "quick.yaml"
    changed = tmp_path / "changed.yaml"
    changed.write_text(quick.read_text().replace("nlive: 50", "nlive: 51"))
    assert "nlive: 51" in changed.read_text()
    out = tmp_path / "q"
    assert main(["run", str(quick), "--rank", "0", "--nranks", "1", "--out", str(out)]) == 0
    part = tmp_path / "q.parts" / "rank-0"
    (part / PART_RECORD).unlink()  # as if stopped after its last checkpoint
    assert main(["run", str(quick), "--rank", "0", "--nranks", "1", "--out", str(out)]) != 0  # needs --resume
    assert main(["run", str(changed), "--rank", "0", "--nranks", "1", "--out", str(out), "--resume"]) != 0
    assert not (part / PART_RECORD).exists()
    assert main(["run", str(quick), "--rank", "0", "--nranks", "1", "--out", str(out), "--resume"]) == 0
    assert json.loads((part / PART_RECORD).read_text())["nranks"] == 1
