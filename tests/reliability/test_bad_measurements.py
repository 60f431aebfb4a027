"""A run file's measurements file (likelihood.measurements) is checked as strictly as the run file: every
committed bad file gives one error naming the measurements file (or the run file's key), the key path and the
fix, with a did-you-mean where a name is close."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.config.runfile import RunConfigError, load_run_config

BAD = Path(__file__).resolve().parent / "bad_measurements"

RUN = """\
seed: 1
parameters: {kappa: {fixed: 0}}
likelihood:
  data: "2023"
  measurements: MEASUREMENTS
sampler: {name: dynesty, settings: {nlive: 50}}
"""

# file stem -> (key path in the measurements file, phrases of what is wrong and of the fix)
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "unknown_entry_key": ("entries[0].daat (line 4)", ("unknown entry key 'daat'", "Did you mean 'data'?")),
    "unknown_data_key": ("entries[0].data.centre", ("unknown data key 'centre'", "Did you mean 'central'?")),
    "unknown_observable": ("entries[0].observable", ("unknown observable 'BR(KL->pi0nunnu)'",
                                                     "Did you mean 'BR(KL->pi0nunu)'?")),
    "new_term_incomplete": ("entries[0]", ("is not a term of measurement set '2023', so it is a new term",
                                           "observable", "did you mean 'BR(B+->K+nunu)'?")),
    "numbers_without_source": ("entries[0]", ("changes the numbers of 'BR(B+->K+nunu)' but gives no source",
                                              "Add source:")),
    "bad_source": ("entries[0].source", ("'my notes' is not an arXiv id",)),
    "duplicate_name": ("entries[1].name", ("appears twice in this file (entries 0 and 1)",)),
    "no_schema": ("schema", ("expected schema: 1",)),
    "entries_not_a_list": ("entries", ("non-empty list",)),
    "negative_error": ("entries[0].data.error", ("must be >= 0",)),
    "kind_needs_other_data": ("entries[0]", ("cannot be used", "BR(B+->K+nunu)")),
    "yaml_syntax_error": ("line 5", ("YAML syntax error",)),
}


def _run_file(tmp_path: Path, measurements: str) -> Path:
    run = tmp_path / "run.yaml"
    run.write_text(RUN.replace("MEASUREMENTS", measurements), encoding="utf-8")
    return run


def test_every_bad_file_has_a_case():
    assert {p.stem for p in BAD.glob("*.yaml")} == set(CASES) | {"empty"}


@pytest.mark.parametrize("stem", sorted(CASES))
def test_bad_measurements_file(tmp_path, stem):
    key, phrases = CASES[stem]
    file = BAD / f"{stem}.yaml"
    with pytest.raises(RunConfigError) as exc:
        load_run_config(_run_file(tmp_path, str(file)))
    message = str(exc.value)
    assert message.startswith(f"{file.resolve()}: {key}") or message.startswith(f"{file}: {key}"), message
    for phrase in phrases:
        assert phrase in message, (phrase, message)


def test_missing_and_empty_files_name_the_run_files_key(tmp_path):
    run = _run_file(tmp_path, "nowhere.yaml")
    with pytest.raises(RunConfigError, match=r"run\.yaml: likelihood\.measurements \(line 5\): the measurements "
                                             r"file '.*nowhere\.yaml' does not exist"):
        load_run_config(run)
    run = _run_file(tmp_path, str(BAD / "empty.yaml"))
    with pytest.raises(RunConfigError, match=r"likelihood\.measurements.*is empty.*schema: 1"):
        load_run_config(run)
    run = _run_file(tmp_path, "42")
    with pytest.raises(RunConfigError, match=r"likelihood\.measurements.*expected a string"):
        load_run_config(run)
