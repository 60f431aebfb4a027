"""Bad input to fit, reweight and sensitivity: one readable line naming the folder or file, exit code 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.cli import main


@pytest.mark.parametrize("command", [["fit"], ["reweight", "RUNFILE", "--out", "OUT"], ["sensitivity", "OTHER"]])
def test_an_unfinished_folder_is_refused(command: list[str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "dynesty.save").write_bytes(b"")
    args = [command[0], str(unfinished)] + [str(tmp_path / a) if a.isupper() else a for a in command[1:]]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert str(unfinished) in err and "no finished run" in err and "--resume" in err


def test_fit_of_a_missing_run_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml" in capsys.readouterr().err
