"""likelihood.measurements: a user's file of entries that replace or add terms, used by every likelihood path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from inference.config.runfile import load_run_config, parse_run_config
from inference.output.results import config_diff
from inference.samplers.model import RunModel
from physics import all_benchmarks

OVERRIDE = {"name": "BR(B+->K+nunu)", "data": {"central": 2.7e-5, "error": 0.5e-5}, "source": "arXiv:2311.14647"}
# KOTO's 2021-data limit (arXiv:2411.11237; the 2025 set's number) as a second, separately named term
NEW = {"name": "KOTO 2021 KL->pi0nunu", "observable": "BR(KL->pi0nunu)", "unit": "1", "applies_to": "total",
       "kind": "upper_limit", "data": {"limit": 2.2e-9, "cl": 0.90}, "sm": None, "source": "arXiv:2411.11237",
       "table_row": "Table I row 7 (updated)", "paper_condition": "none (newer data)",
       "note": "a test term", "enabled": True}


def _write(tmp_path: Path, entries: list[dict], terms: dict | None = None, mode: str = "gaussian") -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "mine.yaml").write_text(yaml.safe_dump({"schema": 1, "entries": entries}), encoding="utf-8")
    run = {"seed": 3, "parameters": {"eta_d": {"prior": "uniform", "min": 0.0, "max": 1.0}},
           "likelihood": {"data": "2023", "mode": mode, "measurements": "data/mine.yaml", "terms": terms or {}},
           "sampler": {"name": "dynesty", "settings": {"nlive": 50}}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(run), encoding="utf-8")
    return path


def _plain(tmp_path: Path, terms: dict, mode: str = "gaussian") -> Path:
    run = {"seed": 3, "parameters": {"eta_d": {"prior": "uniform", "min": 0.0, "max": 1.0}},
           "likelihood": {"data": "2023", "mode": mode, "terms": terms},
           "sampler": {"name": "dynesty", "settings": {"nlive": 50}}}
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(run), encoding="utf-8")
    return path


def _points(config, n: int = 400) -> np.ndarray:
    x = config.priors.sample(np.random.default_rng(0), n)
    return np.vstack([x, config.from_params(all_benchmarks())])


@pytest.mark.parametrize("mode", ["gaussian", "cuts"])
def test_override_equals_the_run_files_numeric_override(tmp_path, mode):
    """Two independent routes to the same numbers: the measurements file, and likelihood.terms overrides."""
    with_file = RunModel(load_run_config(_write(tmp_path, [OVERRIDE], mode=mode)))
    with_terms = RunModel(load_run_config(_plain(tmp_path, {"BR(B+->K+nunu)": {"central": 2.7e-5, "error": 0.5e-5}},
                                                 mode=mode)))
    shipped = RunModel(load_run_config(_plain(tmp_path, {}, mode=mode)))
    x = _points(with_file.config)
    a = with_file.reference_log_likelihood(x)
    np.testing.assert_array_equal(a, with_terms.reference_log_likelihood(x))
    # the fast path agrees to rounding (README "Speed": ~1e-14 relative)
    np.testing.assert_allclose(with_file.log_likelihood(x), a, rtol=1e-12, atol=0)
    if mode == "gaussian":
        assert np.any(a != shipped.reference_log_likelihood(x))  # the numbers did change


def test_new_term_adds_its_log_likelihood(tmp_path):
    model = RunModel(load_run_config(_write(tmp_path, [NEW])))
    shipped = RunModel(load_run_config(_plain(tmp_path, {})))
    assert "KOTO 2021 KL->pi0nunu" in model.likelihood.term_names
    x = _points(model.config)
    _, terms, _ = model.likelihood.evaluate(model.config.to_params(x))
    new = terms["KOTO 2021 KL->pi0nunu"]
    expected = shipped.reference_log_likelihood(x) + new
    np.testing.assert_allclose(model.reference_log_likelihood(x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.log_likelihood(x), expected, rtol=1e-12, atol=1e-12)
    assert np.any(new < 0)
    # the run file's terms may switch the new term off by its name
    off = RunModel(load_run_config(_write(tmp_path, [NEW], terms={"KOTO 2021 KL->pi0nunu": {"enabled": False}})))
    np.testing.assert_array_equal(off.reference_log_likelihood(x), shipped.reference_log_likelihood(x))


def test_resolved_run_file_carries_the_entries_and_the_digest(tmp_path):
    path = _write(tmp_path, [OVERRIDE, NEW])
    config = load_run_config(path)
    resolved = config.to_dict()["likelihood"]["measurements"]
    assert resolved["file"] == str((tmp_path / "data" / "mine.yaml").resolve())
    assert len(resolved["sha256"]) == 64 and [e["name"] for e in resolved["entries"]] == [OVERRIDE["name"], NEW["name"]]
    # a results folder's run.yaml loads again, from the entries it holds (the file may be gone)
    (tmp_path / "data" / "mine.yaml").unlink()
    again = parse_run_config(yaml.safe_load(yaml.safe_dump(config.to_dict())), tmp_path / "results_run.yaml")
    assert again.likelihood.measurements == config.likelihood.measurements
    assert again.to_dict()["likelihood"] == config.to_dict()["likelihood"]


def test_a_changed_file_is_a_changed_run(tmp_path):
    """--resume compares resolved run files: new numbers in the measurements file show up in the diff."""
    before = load_run_config(_write(tmp_path, [OVERRIDE])).to_dict()
    changed = {**OVERRIDE, "data": {"central": 2.8e-5, "error": 0.5e-5}}
    after = load_run_config(_write(tmp_path, [changed])).to_dict()
    diff = config_diff(before, after)
    assert "sha256" in diff and "2.8e-05" in diff


def test_relative_path_is_from_the_run_files_folder(tmp_path, monkeypatch):
    path = _write(tmp_path, [OVERRIDE])
    monkeypatch.chdir(tmp_path / "data")  # elsewhere: data/mine.yaml does not exist from here
    config = load_run_config(path)
    assert config.likelihood.measurements is not None
    assert config.likelihood.measurements.replaced == ("BR(B+->K+nunu)",)


def test_the_readme_example_is_a_valid_measurements_file(tmp_path):
    """The README's example file (the YAML block that starts with "schema: 1") loads and does what it says."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("# my_measurements.yaml", 1)[1].split("```", 1)[0]
    (tmp_path / "my_measurements.yaml").write_text(block.split("\n", 1)[1], encoding="utf-8")
    run = {"seed": 1, "likelihood": {"data": "2023", "measurements": "my_measurements.yaml",
                                     "terms": {"BR(KL->pi0nunu)": {"enabled": False}}},
           "sampler": {"name": "dynesty"}}
    (tmp_path / "my_run.yaml").write_text(yaml.safe_dump(run), encoding="utf-8")
    config = load_run_config(tmp_path / "my_run.yaml")
    assert config.likelihood.measurements is not None
    assert config.likelihood.measurements.replaced == ("BR(B+->K+nunu)",)
    assert config.likelihood.measurements.added == ("KOTO 2021 KL->pi0nunu",)
    names = RunModel(config).likelihood.term_names
    assert "KOTO 2021 KL->pi0nunu" in names and "BR(KL->pi0nunu)" not in names
