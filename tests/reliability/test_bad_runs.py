"""Every committed bad run file gives one error naming the file, the key path, what is wrong and how
to fix it, with no traceback unless --debug (issue 7, "Bad run files")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inference.cli.validate import main as validate_main
from inference.config.runfile import RunConfigError, load_run_config, validate_run_config

BAD = Path(__file__).resolve().parent / "bad_runs"

# file stem -> (key path, phrases of "what is wrong", phrases of "how to fix")
CASES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "unknown_top_key": ("sede", ("unknown key 'sede'",), ("Did you mean 'seed'?",)),
    "unknown_parameter": ("parameters.mS", ("unknown parameter 'mS'",), ("Did you mean 'm_S'?",)),
    "unknown_prior_key": ("parameters.m_S.mn", ("unknown key 'mn'",), ("Did you mean 'min'?",)),
    "misspelt_observable": ('likelihood.terms["BR(B+->K+nunnu)"]', ("unknown observable or term",),
                            ("Did you mean 'BR(B+->K+nunu)'?",)),
    "wrong_type_string": ("parameters.eta_d.max", ("expected a number", "a string ('one')"),
                          ("plain number",)),
    "wrong_type_bool": ("parameters.eta_t.max", ("expected a number", "a boolean (true)"), ("plain number",)),
    "min_ge_max": ("parameters.m_nu4.min", ("min (700) must be below max (400)",), ("Swap them",)),
    "negative_mass": ("parameters.m_S.min", ("negative or zero mass", "-5 MeV"), ("Masses are positive",)),
    "u_mu4_above_one": ("parameters.U_mu4.max", ("outside the physical domain", "[0, 1]"), ("max <= 1",)),
    "u_mu4_negative": ("parameters.U_mu4.min", ("outside the physical domain",), ("min >= 0",)),
    "g_d_not_perturbative": ("parameters.g_D.max", ("perturbative", "sqrt(4 pi)"), ("max <= 3.5449077",)),
    "kappa_range_and_fixed": ("parameters.kappa.fixed", ("both a range", "'fixed'"),
                              ("Remove 'fixed' to sample kappa", "kappa: {fixed: 0}")),
    "unknown_sampler_option": ("sampler.settings.nlife", ("unknown dynesty setting 'nlife'",),
                               ("Did you mean 'nlive'?",)),
    "unknown_sampler": ("sampler.name", ("unknown sampler 'dynasty'",), ("Did you mean 'dynesty'?",)),
    "empty": ("(top level)", ("the file is empty",), ("runs/quick.yaml",)),
    "yaml_syntax_error": ("line 7, column 8", ("YAML syntax error", "flow mapping", "began on line 6"),
                          ("matching quotes and brackets",)),
    "missing_measurement_set": ("likelihood.data", ("measurement set 'data' is missing",),
                                ("'2023'", "'2025'")),
    "unknown_measurement_set": ("likelihood.data", ("unknown measurement set '2024'",),
                                ("Did you mean", "'2023'")),
    "mass_unit_gev": ("parameters.m_S.unit", ("given in GeV", "MeV", "1 GeV = 1000 MeV"),
                      ("min: 10, max: 150, unit: MeV",)),
    "mass_looks_like_gev": ("parameters.m_nu4.max", ("looks like GeV; masses are in MeV",),
                            ("Multiply by 1000",)),
    "kappa_unit_gev": ("parameters.kappa.unit", ("given in GeV^-1", "1 GeV^-1 = 1000 TeV^-1"),
                       ("min: 0, max: 2, unit: TeV^-1",)),
    "seed_not_int": ("seed", ("expected an integer", "12.5"), ("whole number",)),
    "seed_missing": ("seed", ("'seed' is required but missing",), ("Add seed:",)),
    "softening_in_gaussian_mode": ("likelihood.softening", ("mode: cuts only", "mode is gaussian"),
                                   ("Remove softening, or set mode: cuts",)),
    "mass_outside_tables": ("parameters.m_S.max", ("leaves the scattering tables", "[10, 150] MeV"),
                            ("Keep m_S within [10, 150] MeV",)),
    "m_s_reaches_m_nu4": ("parameters.m_S.max", ("m_S range reaches the m_nu4 range", "m_S >= m_nu4"),
                          ("below the m_nu4 minimum",)),
    "unknown_scenario": ("theory.scenario", ("unknown theory scenario 'papr'",), ("Did you mean 'paper'?",)),
    "unknown_theory_option": ("theory.options.r_normalization", ("unknown theory option",),
                              ("Did you mean 'r_normalisation'?",)),
    "bad_theory_option_value": ("theory.options.r_normalisation", ("unknown value 'calibrate'",),
                                ("Did you mean 'calibrated'?", "'absolute'")),
    "duplicate_key": ("parameters.kappa", ("appears twice", "lines 6 and 7"), ("Keep one",)),
    "log_uniform_zero_min": ("parameters.eta_t.min", ("log_uniform prior needs min > 0",),
                             ("small positive min", "prior: uniform")),
    "unknown_prior_kind": ("parameters.eta_t.prior", ("unknown prior 'loguniform'",),
                           ("Did you mean 'log_uniform'?",)),
    "eta_u_given": ("parameters.eta_u", ("eta_u is not a parameter", "eta_u = 0"), ("Remove eta_u",)),
    "top_level_list": ("(top level)", ("must be a mapping", "a list"), ("seed: 1",)),
    "unknown_term_kind": ('likelihood.terms["BR(B0->K*0nunu)"].kind', ("unknown term kind 'upperlimit'",),
                          ("Did you mean 'upper_limit'?",)),
    "python_object_tag": ("seed", ("unsupported YAML content", "python/object"), ("plain data only",)),
    "normal_mass_untruncated": ("parameters.m_S.min", ("untruncated normal", "negative masses"),
                                ("Add min and max inside [10, 150] MeV",)),
    "nlive_too_small": ("sampler.settings.nlive", ("nlive = 5 is too small for 8 free parameters",),
                        ("nlive > 9",)),
    "sampler_missing": ("sampler", ("sampler section is missing",), ("name: dynesty",)),
    "term_kind_needs_missing_data": ('likelihood.terms["BR(B0->K*0nunu)"]',
                                     ("likelihood cannot be built", "needs central and error"),
                                     ("Change or remove this term override",)),
    "normal_window_without_mass": ("parameters.g_D", ("holds no probability mass",), ("Change the prior",)),
    "mode_unknown": ("likelihood.mode", ("unknown likelihood mode 'gauss'",), ("Did you mean 'gaussian'?",)),
    # issue 12, item 7: physical ranges at validate time
    "kappa_fixed_huge": ("parameters.kappa.fixed", ("outside the physical domain", "|kappa| <= 100 TeV^-1"),
                         ("fixed <= 100",)),
    "eta_t_overflows": ("parameters.eta_t.max", ("the likelihood cannot be computed at eta_t =", "overflows"),
                        ("the paper's range [0, 0.02]",)),
    "output_empty": ("output", ("output '' is not a folder of its own",), ("results/output_empty",)),
    "emcee_unknown_move": ("sampler.settings.moves.DEMove", ("unknown emcee move 'DEMove'",),
                           ("Did you mean 'de'?", "'de_snooker'", "'stretch'")),
    "emcee_move_option_unknown": ("sampler.settings.moves.de.gama0", ("unknown option 'gama0' of move 'de'",),
                                  ("Did you mean 'gamma0'?",)),
    "emcee_move_weight_negative": ("sampler.settings.moves.de_snooker.weight", ("must be > 0", "-0.2"),
                                   ("Use a value > 0",)),
    "emcee_check_every_not_multiple": ("sampler.settings.check_every",
                                       ("check_every = 1020 is not a multiple of thin_by = 50",),
                                       ("Use a multiple of 50, such as 1000",)),
}
FILES = sorted(BAD.glob("*.yaml"))


def test_at_least_22_cases_each_with_a_comment_and_an_assertion() -> None:
    assert len(FILES) >= 22
    assert {f.stem for f in FILES} == set(CASES), "every bad file needs an entry in CASES and vice versa"
    for f in FILES:
        first = f.read_text().splitlines()[0]
        assert first.startswith("# bad: ") and len(first) > 12, f


@pytest.mark.parametrize("stem", sorted(CASES))
def test_bad_run_file_message(stem: str) -> None:
    path = BAD / f"{stem}.yaml"
    key_path, problems, fixes = CASES[stem]
    with pytest.raises(RunConfigError) as info:
        validate_run_config(path)
    err = info.value
    message = str(err)
    assert message.startswith(f"{path}: {key_path}"), message  # the file, then the key path
    assert "\n" not in message  # one error, one line
    assert err.key_path == key_path
    for phrase in problems:
        assert phrase in err.problem, (phrase, message)
    for phrase in fixes:
        assert phrase in err.fix, (phrase, message)
    assert message.endswith(f"{err.problem}. {err.fix}.")


@pytest.mark.parametrize("stem", ["unknown_sampler_option", "yaml_syntax_error", "empty", "kappa_unit_gev"])
def test_validate_command_prints_one_line_without_traceback(stem: str, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    path = BAD / f"{stem}.yaml"
    assert validate_main([str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in captured.err


def test_load_and_validate_agree_on_schema_errors() -> None:
    with pytest.raises(RunConfigError, match="nlive"):
        load_run_config(BAD / "unknown_sampler_option.yaml")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunConfigError, match=r"does not exist\. Check the path"):
        load_run_config(tmp_path / "nope.yaml")
    with pytest.raises(RunConfigError, match="not a regular file"):
        load_run_config(tmp_path)


def test_cli_traceback_only_with_debug() -> None:
    """The installed command, as a user runs it: one line, then a traceback only with --debug."""
    path = BAD / "min_ge_max.yaml"
    base = [sys.executable, "-c", "import sys; from inference.cli import main; sys.exit(main())"]
    plain = subprocess.run([*base, "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1
    assert "parameters.m_nu4.min" in plain.stderr and "Traceback" not in plain.stderr
    debug = subprocess.run([*base, "--debug", "validate", str(path)], capture_output=True, text=True,
                           timeout=120)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "parameters.m_nu4.min" in debug.stderr
