"""Results folders: round trip, format version, atomic writes, overwrite protection, resume locks."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from inference.output import results as res_mod
from inference.output.records import Evidence, Provenance
from inference.output.results import (
    COMPLETE,
    FORMAT_VERSION,
    ConfigChangedError,
    FormatVersionError,
    IncompleteResultsError,
    ResultsExistError,
    collect_provenance,
    compute_summary,
    prepare_outdir,
    print_summary_table,
    read_results,
    weighted_quantiles,
    write_results,
)
from inference.samplers import SamplerOutput, StopKind, StopReason
from inference.samplers.problem import SampleExtras

CONFIG = {"name": "test", "sampler": {"name": "dynesty", "settings": {"nlive": 100}},
          "parameters": {"kappa": {"prior": "uniform", "min": 0.0, "max": 2.0}}}


def nested_output(n: int = 400, seed: int = 0) -> SamplerOutput:
    rng = np.random.default_rng(seed)
    w = rng.random(n)
    return SamplerOutput(names=("kappa", "eta_t"), samples=rng.normal(size=(n, 2)), weights=w / w.sum(),
                         logl=rng.normal(size=n), logz=-3.25, logz_err=0.12, info={"ncall": 1000, "niter": n},
                         logz_resampled=[-3.3, -3.2, -3.25, -3.1], sampler="dynesty")


def mcmc_output(chains: int = 8, draws: int = 200) -> SamplerOutput:
    rng = np.random.default_rng(1)
    n = chains * draws
    return SamplerOutput(names=("x", "y"), samples=rng.normal(size=(n, 2)), weights=np.full(n, 1 / n),
                         logl=rng.normal(size=n), logz=float("nan"), logz_err=None, chains=chains,
                         sampler="emcee")


def blobs_for(out: SamplerOutput) -> SampleExtras:
    return SampleExtras(term_logl={"BR(B+->K+nunu)": out.logl * 0.5},
                        predictions={"BR(B+->K+nunu)": out.samples[:, 0] ** 2, "ctau_S": np.abs(out.samples[:, 1])})


def write(outdir: Path, out: SamplerOutput, **kw: object) -> Path:
    prov = collect_provenance(7, out.sampler, {"nlive": 100}, "paper-2024")
    return write_results(outdir, out, blobs_for(out), CONFIG, prov, **kw)  # type: ignore[arg-type]


def test_round_trip_nested(tmp_path: Path) -> None:
    out = nested_output()
    write(tmp_path, out)
    r = read_results(tmp_path)
    ws = r.posterior["weighted_samples"].ds
    np.testing.assert_allclose(ws["weights"].values, out.weights)
    np.testing.assert_allclose(ws["kappa"].values, out.samples[:, 0])
    post = r.posterior["posterior"].ds
    assert post["kappa"].shape == (1, len(out.samples))
    # equal-weight draws are a resample of the raw points: every drawn value is one of them
    assert np.all(np.isin(post["kappa"].values.ravel(), out.samples[:, 0]))
    # the predictions and per-term log L follow the same draws
    np.testing.assert_allclose(r.posterior["posterior_predictive"].ds["BR(B+->K+nunu)"].values,
                               post["kappa"].values ** 2)
    np.testing.assert_allclose(r.posterior["log_likelihood"].ds["BR(B+->K+nunu)"].values,
                               0.5 * r.posterior["sample_stats"].ds["logl"].values)
    assert float(r.posterior["sample_stats"].ds["logz"]) == pytest.approx(-3.25)
    assert r.evidence.logz == -3.25 and r.evidence.logz_err == 0.12
    assert r.evidence.logz_resampled_std == pytest.approx(np.std(out.logz_resampled, ddof=1))
    assert r.evidence.stop == out.stop and r.evidence.converged
    assert r.config == CONFIG
    assert r.provenance.format_version == FORMAT_VERSION and r.provenance.seed == 7
    assert r.provenance.measurement_set == "paper-2024" and r.provenance.git_revision
    assert r.provenance.sampler_info["stop_kind"] == out.stop.kind.value
    assert json.loads(r.posterior.attrs["provenance"])["seed"] == 7
    row = {s.parameter: s for s in r.summary}["kappa"]
    mean = float(np.sum(out.weights * out.samples[:, 0]))
    assert row.mean == pytest.approx(mean)
    assert row.r_hat is None and row.ess_bulk is None and row.ess_tail is None  # no chains: no R-hat
    assert not row.mcmc and row.ess == row.ess_kish == pytest.approx(1 / np.sum(out.weights**2))
    assert row.q2_5 < row.q16 < row.median < row.q84 < row.q97_5
    # the record is what summary.csv holds, column for column, and it is frozen
    assert r.summary == compute_summary(out) and "r_hat" not in row.columns() and row.columns()["q2.5"] == row.q2_5
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.mean = 0.0  # type: ignore[misc]


def test_records_are_frozen_and_a_folder_written_before_stop_kind_still_reads(tmp_path: Path) -> None:
    """Results, Evidence and Provenance cannot be changed; evidence.json and provenance.json written by the same
    format version before stop_kind and converged were stored (the keys removed here) read with the kind
    recovered from the sentence, and the records write back what they read."""
    out = nested_output()
    out.stop = StopReason(StopKind.ITERATION_CAP, "stopped at the maxiter/maxcall cap: the evidence is NOT converged")
    write(tmp_path, out)
    for name in ("evidence.json", "provenance.json"):
        record = json.loads((tmp_path / name).read_text())
        inner = record.get("sampler_info", record)
        del inner["stop_kind"], inner["converged"]
        (tmp_path / name).write_text(json.dumps(record))
    r = read_results(tmp_path)
    assert r.evidence.stop == out.stop and not r.evidence.converged and r.evidence.ncall == out.info["ncall"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.evidence.logz = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.outdir = tmp_path  # type: ignore[misc]
    written = json.loads((tmp_path / "provenance.json").read_text())
    assert Provenance.from_json(written).as_json() == written
    assert Evidence.from_json(r.evidence.as_json()) == r.evidence
    assert r.provenance.extra == {}  # every key written by collect_provenance has its field
    emcee = mcmc_output()
    write(tmp_path / "mcmc", emcee)
    ev = read_results(tmp_path / "mcmc").evidence
    assert not ev.has_logz and json.loads((tmp_path / "mcmc" / "evidence.json").read_text())["logz"] is None


def test_mcmc_summary_has_rhat_and_ess(tmp_path: Path) -> None:
    write(tmp_path, mcmc_output())
    r = read_results(tmp_path)
    assert r.posterior["posterior"].ds["x"].shape == (8, 200)
    for row in r.summary:
        assert row.mcmc and row.r_hat is not None and 0.98 < row.r_hat < 1.02  # independent normal draws: R-hat ~ 1
        assert row.ess_bulk is not None and row.ess_tail is not None and row.ess_bulk > 800 and row.ess_tail > 500
        assert row.ess_kish is None and row.ess == row.ess_bulk
    table = print_summary_table(r.summary)
    assert "R-hat" in table and "ESS bulk" in table and table.count("\n") == 3
    assert "ESS (Kish)" in print_summary_table(compute_summary(nested_output()))


def test_weighted_quantiles() -> None:
    x = np.linspace(0.0, 1.0, 10001)
    np.testing.assert_allclose(weighted_quantiles(x, np.ones_like(x), (0.16, 0.5, 0.84)), [0.16, 0.5, 0.84],
                               atol=1e-4)
    # density 2x on [0, 1]: the median of the weighted points is sqrt(1/2)
    assert weighted_quantiles(x, 2 * x, (0.5,))[0] == pytest.approx(np.sqrt(0.5), abs=1e-3)


def test_other_format_version_is_refused(tmp_path: Path) -> None:
    write(tmp_path, nested_output())
    prov = json.loads((tmp_path / "provenance.json").read_text())
    prov["format_version"] = FORMAT_VERSION + 98
    (tmp_path / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(FormatVersionError, match=rf"format version {FORMAT_VERSION + 98}.*reads version"):
        read_results(tmp_path)


def test_interrupted_write_does_not_look_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = res_mod.atomic_write_text

    def failing(path: Path, text: str) -> None:
        if path.name.startswith(".provenance.json"):  # staged before anything replaces the folder's files
            raise KeyboardInterrupt("killed while writing")
        real(path, text)

    prepare_outdir(tmp_path, CONFIG)  # as `darkportal run` does before sampling
    monkeypatch.setattr(res_mod, "atomic_write_text", failing)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path, nested_output())
    assert not (tmp_path / COMPLETE).exists() and not (tmp_path / "provenance.json").exists()
    with pytest.raises(IncompleteResultsError, match="--resume"):
        read_results(tmp_path)


def test_atomic_text_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "evidence.json"
    target.write_text("old")

    def no_rename(src: str, dst: str) -> None:
        raise OSError("killed before the rename")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError):
        res_mod.atomic_write_text(target, "new")
    assert target.read_text() == "old"


def test_finished_run_is_not_overwritten(tmp_path: Path) -> None:
    write(tmp_path, nested_output())
    with pytest.raises(ResultsExistError, match="--force"):
        write(tmp_path, nested_output(seed=1))
    with pytest.raises(ResultsExistError, match="finished run"):
        prepare_outdir(tmp_path, CONFIG)
    write(tmp_path, nested_output(seed=1), force=True)
    assert read_results(tmp_path).evidence.logz == -3.25
    # `darkportal run --force` into the finished folder starts afresh beside the finished result, which stays
    # until the new one is written (issue 12)
    assert prepare_outdir(tmp_path, CONFIG, force=True) is False
    assert (tmp_path / COMPLETE).exists() and read_results(tmp_path).evidence.logz == -3.25


def test_prepare_outdir_resume_and_changed_config(tmp_path: Path) -> None:
    assert prepare_outdir(tmp_path, CONFIG) is False
    (tmp_path / "dynesty.save").write_bytes(b"checkpoint")
    with pytest.raises(ResultsExistError, match="--resume"):
        prepare_outdir(tmp_path, CONFIG)
    assert prepare_outdir(tmp_path, CONFIG, resume=True) is True
    changed = {**CONFIG, "sampler": {"name": "dynesty", "settings": {"nlive": 200}}}
    with pytest.raises(ConfigChangedError) as err:
        prepare_outdir(tmp_path, changed, resume=True)
    message = str(err.value)
    assert "-    nlive: 100" in message and "+    nlive: 200" in message and "--force" in message
    # nlive is fixed by the checkpoint: even --force cannot resume it with another value (issue 12)
    with pytest.raises(ConfigChangedError, match="without --resume"):
        prepare_outdir(tmp_path, changed, resume=True, force=True)
    looser = {**CONFIG, "sampler": {"name": "dynesty", "settings": {"nlive": 100, "dlogz": 1.0}}}
    with pytest.raises(ConfigChangedError, match="--resume --force"):
        prepare_outdir(tmp_path, looser, resume=True)
    assert prepare_outdir(tmp_path, looser, resume=True, force=True) is True
    # --force without --resume starts again: the checkpoint is removed
    assert prepare_outdir(tmp_path, CONFIG, force=True) is False
    assert not (tmp_path / "dynesty.save").exists()
