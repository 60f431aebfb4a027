"""The run-file schema: the shipped run files, defaults, unit conversion, round trip, error format."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from inference.cli.validate import main as validate_main
from inference.config.runfile import (
    RunConfig,
    RunConfigError,
    from_params,
    load_run_config,
    parse_run_config,
    to_params,
    validate_run_config,
)
from physics.options import TheoryOptions
from physics.params import ModelParams
from priors import Fixed, LogUniform, Normal, Uniform, paper_priors

REPO = Path(__file__).resolve().parents[2]
RUNS = sorted((REPO / "runs").glob("*.yaml"))
MINIMAL = "seed: 3\nlikelihood: {data: '2023'}\nsampler: {name: dynesty}\n"


def write(tmp_path: Path, text: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_all_six_run_files_are_shipped() -> None:
    assert {p.stem for p in RUNS} >= {"kappa_nonzero", "kappa_zero", "paper_scan_kappa_nonzero",
                                      "paper_scan_kappa_zero", "emcee_kappa_nonzero", "emcee_kappa_zero",
                                      "quick"}


@pytest.mark.parametrize("path", RUNS, ids=[p.stem for p in RUNS])
def test_shipped_run_files_validate_and_round_trip(path: Path, tmp_path: Path) -> None:
    config = validate_run_config(path)
    assert config.name == path.stem
    assert config.output == f"results/{path.stem}"
    dumped = write(tmp_path, config.to_yaml(), f"{path.stem}.yaml")
    again = load_run_config(dumped)
    assert again.to_dict() == config.to_dict()
    assert again.priors == config.priors


def test_kappa_cases_differ_only_in_kappa() -> None:
    """The two cases of the paper: same box, kappa in [0, 2] TeV^-1 or kappa = 0 (arXiv:2310.15136)."""
    nonzero = load_run_config(REPO / "runs" / "kappa_nonzero.yaml")
    zero = load_run_config(REPO / "runs" / "kappa_zero.yaml")
    assert nonzero.priors["kappa"] == Uniform(0.0, 2.0)
    assert zero.priors.fixed == {"kappa": 0.0}
    assert nonzero.priors.names[1:] == zero.priors.names
    for name in zero.priors.names:
        assert nonzero.priors[name] == zero.priors[name]
    assert (nonzero.likelihood.mode, zero.likelihood.mode) == ("gaussian", "gaussian")
    assert nonzero.sampler.name == zero.sampler.name == "dynesty"


def test_paper_scans_use_cuts_and_the_scan_sampler() -> None:
    for stem in ("paper_scan_kappa_nonzero", "paper_scan_kappa_zero"):
        config = load_run_config(REPO / "runs" / f"{stem}.yaml")
        assert config.likelihood.mode == "cuts"
        assert config.likelihood.softening == 0.0
        assert config.sampler.name == "scan"


def test_minimal_file_gets_paper_defaults(tmp_path: Path) -> None:
    config = load_run_config(write(tmp_path, MINIMAL, "mini.yaml"))
    assert config.name == "mini" and config.output == "results/mini" and config.seed == 3
    assert config.priors == paper_priors()
    assert config.likelihood.mode == "gaussian" and config.likelihood.softening is None
    assert config.theory.theory_options() == TheoryOptions()
    # the adapter's defaults are filled in, so the resolved file records every setting
    assert config.sampler.settings["nlive"] > 0 and "dlogz" in config.sampler.settings


def test_prior_kinds_and_units(tmp_path: Path) -> None:
    text = MINIMAL + """parameters:
  kappa: {fixed: 0}
  eta_t: {prior: log_uniform, min: 1e-4, max: 0.02}
  g_D: {prior: normal, mean: 1.0, sigma: 0.5, min: 0, max: 3.5}
  m_S: {prior: uniform, min: 20, max: 40, unit: MeV}
  U_mu4: {unit: "1"}
"""
    config = load_run_config(write(tmp_path, text))
    assert config.priors["eta_t"] == LogUniform(1e-4, 0.02)  # 1e-4 is a float (YAML 1.2), not a string
    assert config.priors["g_D"] == Normal(1.0, 0.5, min=0.0, max=3.5)
    assert config.priors["m_S"] == Uniform(20.0, 40.0)
    assert config.priors["U_mu4"] == Uniform(0.0, 0.006)
    assert config.priors["kappa"] == Fixed(0.0)


@pytest.mark.parametrize("unit", ["TeV^-1", "1/TeV", "TeV-1", "TeV^{-1}"])
def test_unit_spellings_accepted(tmp_path: Path, unit: str) -> None:
    text = MINIMAL + f"parameters:\n  kappa: {{prior: uniform, min: 0, max: 1, unit: '{unit}'}}\n"
    assert load_run_config(write(tmp_path, text)).priors["kappa"] == Uniform(0.0, 1.0)


def test_to_params_converts_paper_units_to_gev() -> None:
    """kappa TeV^-1 -> GeV^-1 (x 1e-3), masses MeV -> GeV (x 1e-3); fixed values filled."""
    config = load_run_config(REPO / "runs" / "kappa_zero.yaml")
    x = np.array([[0.5, -0.2, 0.01, 1.0, 0.004, 40.0, 500.0]])  # eta_d eta_c eta_t g_D U m_S m_nu4
    p = config.to_params(x)
    assert isinstance(p, ModelParams) and p.size == 1
    assert p.kappa[0] == 0.0
    assert p.m_S[0] == pytest.approx(0.040) and p.m_nu4[0] == pytest.approx(0.500)
    assert p.eta_c[0] == -0.2 and p.U_mu4[0] == 0.004
    np.testing.assert_allclose(config.from_params(p), x)
    nonzero = load_run_config(REPO / "runs" / "kappa_nonzero.yaml")
    q = to_params(nonzero.priors, np.array([1.5, *x[0]]))  # one point as a 1-D vector
    assert q.kappa[0] == pytest.approx(1.5e-3)
    np.testing.assert_allclose(from_params(nonzero.priors, q), [[1.5, *x[0]]])


def test_benchmark_point_maps_back_to_a_sampler_vector() -> None:
    from physics.benchmarks import benchmark

    config = load_run_config(REPO / "runs" / "kappa_nonzero.yaml")
    bp1 = benchmark("BP1")
    x = config.from_params(bp1)
    assert x.shape == (1, 8)
    np.testing.assert_allclose(config.to_params(x).to_array(), bp1.to_array(), rtol=1e-12)


def test_theory_options_are_resolved_and_typed(tmp_path: Path) -> None:
    text = MINIMAL + "theory: {scenario: absolute, options: {kl_convention: abs, fTs: 0.053}}\n"
    config = load_run_config(write(tmp_path, text))
    opts = config.theory.theory_options()
    assert opts.r_normalisation == "absolute" and opts.kl_convention == "abs" and opts.fTs == 0.053
    assert config.to_dict()["theory"]["options"]["kl_convention"] == "abs"


def test_sampler_settings_counts_may_be_written_as_floats(tmp_path: Path) -> None:
    text = "seed: 3\nlikelihood: {data: '2023'}\nsampler: {name: dynesty, settings: {maxcall: 1e6}}\n"
    assert load_run_config(write(tmp_path, text)).sampler.settings["maxcall"] == 1_000_000


def test_cuts_mode_softening(tmp_path: Path) -> None:
    text = "seed: 3\nlikelihood: {data: '2023', mode: cuts, softening: 0.1}\nsampler: {name: scan}\n"
    config = load_run_config(write(tmp_path, text))
    assert config.likelihood.softening == 0.1


def test_term_overrides(tmp_path: Path) -> None:
    from likelihoods import available_terms

    first = available_terms("2023")[0]
    text = MINIMAL.replace("{data: '2023'}", f"{{data: '2023', terms: {{'{first}': {{enabled: false}}}}}}")
    config = load_run_config(write(tmp_path, text))
    assert config.likelihood.terms == {first: {"enabled": False}}


def test_error_format_names_file_key_line_problem_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "parameters:\n  m_S: {prior: uniform, min: 150, max: 10}\n")
    with pytest.raises(RunConfigError) as info:
        load_run_config(path)
    err = info.value
    assert err.file == str(path) and err.key_path == "parameters.m_S.min" and err.line == 5
    assert str(err) == (f"{path}: parameters.m_S.min (line 5): min (150) must be below max (10). "
                        "Swap them or widen the range; to hold a parameter constant use {fixed: VALUE}.")
    assert isinstance(err, ValueError)


def test_term_names_are_quoted_in_key_paths() -> None:
    from inference.errors import format_key_path

    assert format_key_path(("likelihood", "terms", "BR(Bs->mumu)", "kind")) == \
        'likelihood.terms["BR(Bs->mumu)"].kind'
    assert format_key_path(()) == "(top level)"


def test_parse_run_config_from_a_mapping() -> None:
    data = yaml.safe_load(MINIMAL)
    config = parse_run_config(data, "inline.yaml")
    assert isinstance(config, RunConfig) and config.name == "inline"
    assert config.rng().random() == np.random.default_rng(3).random()


def test_g_d_bound_accepts_sqrt_4pi_written_out(tmp_path: Path) -> None:
    text = MINIMAL + f"parameters:\n  g_D: {{min: 0, max: {math.sqrt(4 * math.pi)!r}}}\n"
    assert load_run_config(write(tmp_path, text)).priors["g_D"].support[1] == math.sqrt(4 * math.pi)


def test_validate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = REPO / "runs" / "quick.yaml"
    bad = write(tmp_path, "seed: 1.5\n", "bad.yaml")
    assert validate_main([str(good)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "quick" in out and "fixed kappa = 0" in out
    assert validate_main([str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{bad}: seed" in captured.err and "Traceback" not in captured.err
    assert validate_main([]) == 2


def test_validate_asks_the_physics_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """validate draws prior points and rejects the box when physics.domain_violations flags any."""
    import physics.registry

    def flag_large_m_s(params: ModelParams) -> dict[str, np.ndarray]:
        return {"m_S above 100 MeV (test stand-in)": params.m_S > 0.100}

    monkeypatch.setattr(physics.registry, "domain_violations", flag_large_m_s)
    with pytest.raises(RunConfigError, match=r"parameters.*outside the model's domain \(m_S above 100 MeV"):
        validate_run_config(REPO / "runs" / "quick.yaml")


def test_run_config_pickles_for_pools_and_checkpoints(tmp_path: Path) -> None:
    """Process/MPI pools and dynesty's checkpoint pickle the run model, and with it the RunConfig."""
    import pickle

    text = MINIMAL + "parameters:\n  g_D: {prior: normal, mean: 1, sigma: 0.5, min: 0, max: 3}\n"
    config = load_run_config(write(tmp_path, text))
    clone = pickle.loads(pickle.dumps(config))
    assert clone.to_dict() == config.to_dict() and clone.priors == config.priors
    x = config.priors.sample(config.rng(), 5)
    np.testing.assert_array_equal(clone.priors.logpdf(x), config.priors.logpdf(x))


def test_r_conventions_from_the_run_file(tmp_path: Path) -> None:
    """Each convention of R is its own option; a new r_normalisation brings its preset, explicit fields win
    (docs/physics/g2-scattering.md §5.6)."""
    base = MINIMAL + "theory:\n  scenario: paper\n  options: {r_normalisation: calibrated, zp_denominator: coherent}\n"
    opts = load_run_config(write(tmp_path, base)).theory.theory_options()
    assert (opts.r_normalisation, opts.nuclear_form_factor, opts.zp_denominator, opts.nucleon_ff_incoherent) \
        == ("calibrated", "lewin_smith", "coherent", True)
    assert load_run_config(write(tmp_path, MINIMAL)).theory.theory_options() == TheoryOptions()


@pytest.mark.parametrize("option, value, message", [
    ("nuclear_form_factor", "engle", "Did you mean 'engel'"),
    ("zp_denominator", "incoherent", "unknown value 'incoherent'"),
    ("charm_E", 25, "charm_E = 25 is not covered by the shipped scattering tables"),
])
def test_bad_r_convention_options_name_file_and_key(tmp_path: Path, option: str, value: object,
                                                    message: str) -> None:
    text = MINIMAL + f"theory:\n  options: {{{option}: {value}}}\n"
    path = write(tmp_path, text)
    with pytest.raises(RunConfigError) as err:
        load_run_config(path)
    assert str(path) in str(err.value) and f"theory.options.{option}" in str(err.value)
    assert message in str(err.value)
