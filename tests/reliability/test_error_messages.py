"""Every failure names the file and the fix, never a raw library message (issue 12, item 8): --out that is a
file, damaged checkpoints and chain files, garbage in a results folder, compare on a folder that is not a
result, and no "use --force" advice when --force was given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import EMCEE_FILE, SCAN_FILE, assert_clean, cli, fake_result, resolved, write_run

from inference.output.results import LOCK, dump_config
from inference.samplers.checkpoint_auth import dump_signed


def unfinished(tmp_path: Path, checkpoint: str, payload: bytes, text: str | None = None) -> tuple[Path, Path]:
    run = write_run(tmp_path, text) if text else write_run(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK).write_text(dump_config(resolved(run)))
    (out / checkpoint).write_bytes(payload)
    return run, out


def test_out_is_a_file(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    target = tmp_path / "results.txt"
    target.write_text("my notes")
    code, _, err = cli("run", str(run), "--out", str(target))
    assert code == 1 and f"--out {target} is a file, not a folder" in err, err
    assert_clean(err)
    assert target.read_text() == "my notes"


def test_out_is_a_folder_of_other_files(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("text")
    code, _, err = cli("run", str(run), "--out", str(mine))
    assert code == 1 and "already holds other files and no darkportal run" in err, err
    assert sorted(p.name for p in mine.iterdir()) == ["chapter1.tex"]


def _truncated_signed(tmp_path: Path) -> bytes:
    dump_signed({"sampler": list(range(1000))}, tmp_path / "whole.save")
    return (tmp_path / "whole.save").read_bytes()[:-200]


@pytest.mark.parametrize(("kind", "phrase"), [("empty", "is empty"), ("garbage", "not a darkportal checkpoint"),
                                              ("truncated", "signature does not match")])
@pytest.mark.parametrize("force", [False, True])
def test_damaged_dynesty_checkpoint(tmp_path: Path, kind: str, phrase: str, force: bool) -> None:
    payload = {"empty": b"", "garbage": b"\x00\x01 not a pickle at all",
               "truncated": b""}[kind] or (_truncated_signed(tmp_path) if kind == "truncated" else b"")
    run, out = unfinished(tmp_path, "dynesty.save", payload)
    code, _, err = cli("run", str(run), "--out", str(out), "--resume", *(["--force"] if force else []))
    assert code == 1 and f"{out / 'dynesty.save'}" in err and phrase in err, err
    assert "darkportal run RUN.yaml --force' (without --resume)" in err
    assert_clean(err)
    assert (out / "dynesty.save").read_bytes() == payload  # nothing lost


@pytest.mark.parametrize(("payload", "phrase"), [(b"", "it is empty"), (b"PK\x03\x04 broken zip", "damaged"),
                                              (b"\x80\x04garbage", "damaged")])
def test_damaged_scan_checkpoint(tmp_path: Path, payload: bytes, phrase: str) -> None:
    run, out = unfinished(tmp_path, "scan.npz", payload, SCAN_FILE)
    code, _, err = cli("run", str(run), "--out", str(out), "--resume")
    assert code == 1 and f"{out / 'scan.npz'}: the scan checkpoint cannot be read" in err and phrase in err, err
    assert "--force' (without --resume)" in err
    assert_clean(err)


def test_corrupt_chain_and_backup(tmp_path: Path) -> None:
    run, out = unfinished(tmp_path, "chain.h5", b"\x89HDF\r\n garbage", EMCEE_FILE)
    (out / "chain.h5.bak").write_bytes(b"also garbage")
    code, _, err = cli("run", str(run), "--out", str(out), "--resume")
    assert code == 1 and "the emcee chain cannot be read" in err and "chain.h5 and chain.h5.bak" in err
    assert "not an HDF5 file" in err, err
    assert "--force' (without --resume)" in err
    assert_clean(err)


@pytest.mark.parametrize(("name", "content", "phrase"), [
    ("evidence.json", "{ this is not json", "the evidence record is not valid JSON"),
    ("evidence.json", '{"logz": "high"}', "'logz' is 'high', not a number"),
    ("evidence.json", "[1, 2]", "not a JSON object"),
    ("summary.csv", "parameter,mean\nkappa,abc\n", "lacks the column"),
    ("summary.csv", None, "is not a number"),
    ("posterior.nc", "not netcdf", "the posterior file cannot be read as netCDF"),
    ("run.yaml", "a: &a [*a]", "the resolved run file cannot be read"),
    ("provenance.json", "", "the provenance record is not valid JSON"),
    ("COMPLETE", "\x00\x01", "marker is not valid JSON"),
])
def test_garbage_in_a_results_folder(tmp_path: Path, name: str, content: str | None, phrase: str) -> None:
    config = resolved(write_run(tmp_path))
    a, b = fake_result(tmp_path / "a", config), fake_result(tmp_path / "b", config, seed=1)
    if content is None:  # one bad number in an otherwise intact table
        lines = (a / name).read_text().splitlines()
        lines[1] = lines[1].replace(lines[1].split(",")[2], "oops", 1)
        content = "\n".join(lines) + "\n"
    (a / name).write_text(content)
    code, out, err = cli("compare", str(a), str(b))
    assert code == 2 and out == ""
    assert f"{a / name}: " in err and phrase in err and "darkportal run RUN.yaml --force --out" in err, err
    assert_clean(err)


def test_compare_on_a_folder_that_is_no_result(tmp_path: Path) -> None:
    config = resolved(write_run(tmp_path))
    a = fake_result(tmp_path / "a", config)
    other = tmp_path / "figures"
    other.mkdir()
    (other / "plot.png").write_bytes(b"png")
    code, _, err = cli("compare", str(a), str(other))
    assert code == 2 and "is not a darkportal results folder" in err and "--resume" not in err, err
    code, _, err = cli("compare", str(a), str(tmp_path / "typo"))
    assert code == 2 and "does not exist" in err and "--resume" not in err


def test_force_given_is_never_answered_with_use_force(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stored = resolved(run)
    stored["sampler"]["settings"]["nlive"] = 41  # the checkpoint was started with another nlive
    (out / LOCK).write_text(dump_config(stored))
    dump_signed({"sampler": None}, out / "dynesty.save")
    code, _, err = cli("run", str(run), "--out", str(out), "--resume", "--force")
    assert code == 1 and "sampler.settings.nlive" in err and "(even with --force)" in err, err
    assert "use --force" not in err and "without --resume" in err
    assert json.loads(json.dumps(err))  # one printable message
