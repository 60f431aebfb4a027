"""A checkpoint this user's darkportal did not write is never unpickled; read commands unpickle nothing
(issue 12, item 4). Before the fix `run --resume` unpickled any `dynesty.save`, so a crafted one in a shared
folder ran code (here: it would create a marker file)."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest
from helpers import assert_clean, cli, fake_result, resolved, write_run

from inference.output.results import LOCK, dump_config
from inference.samplers import checkpoint_auth
from inference.samplers.checkpoint_auth import CheckpointAuthError, dump_signed, load_signed


class Evil:
    """Unpickling this creates a file: stands for any code a crafted pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


def shared_folder(tmp_path: Path, payload: bytes) -> tuple[Path, Path]:
    """A folder as someone might share it: an unfinished run with the given dynesty.save."""
    run = write_run(tmp_path)
    out = tmp_path / "shared"
    out.mkdir()
    (out / LOCK).write_text(dump_config(resolved(run)))
    (out / "dynesty.save").write_bytes(payload)
    return run, out


def test_resume_refuses_an_unsigned_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    run, out = shared_folder(tmp_path, pickle.dumps({"sampler": Evil(marker)}))
    code, _, err = cli("run", str(run), "--out", str(out), "--resume")
    assert code == 1 and not marker.exists()
    assert f"{out / 'dynesty.save'}" in err and "not written by this user's darkportal" in err, err
    assert "--force" in err and "without --resume" in err
    assert_clean(err)
    assert (out / "dynesty.save").exists()  # refused, not deleted: the user decides


def test_resume_refuses_a_pickle_signed_with_another_users_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    run, out = shared_folder(tmp_path, b"")
    monkeypatch.setenv("DARKPORTAL_KEY_FILE", str(tmp_path / "someone_else.key"))
    dump_signed({"sampler": Evil(marker)}, out / "dynesty.save")
    monkeypatch.setenv("DARKPORTAL_KEY_FILE", str(tmp_path / "mine.key"))
    code, _, err = cli("run", str(run), "--out", str(out), "--resume")
    assert code == 1 and not marker.exists()
    assert "signature does not match this user's key" in err and "mine.key" in err, err
    assert_clean(err)


def test_signed_file_round_trip_and_tampering(tmp_path: Path) -> None:
    path = tmp_path / "c.save"
    dump_signed({"x": [1, 2, 3]}, path)
    assert load_signed(path, "checkpoint", "fix") == {"x": [1, 2, 3]}
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0x01  # one flipped bit in the pickle
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointAuthError, match="signature does not match"):
        load_signed(path, "checkpoint", "fix")


def test_key_is_private_and_outside_the_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DARKPORTAL_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    key = checkpoint_auth.user_key()
    path = tmp_path / "config" / "darkportal" / "checkpoint.key"
    assert checkpoint_auth.key_path() == path and path.read_bytes() == key and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert checkpoint_auth.user_key() == key  # made once
    os.chmod(path, 0o644)
    with pytest.raises(checkpoint_auth.KeyFileError, match="chmod 600"):
        checkpoint_auth.user_key()


def test_read_commands_unpickle_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    config = resolved(write_run(tmp_path))
    a = fake_result(tmp_path / "a", config, logz=-5.0)
    b = fake_result(tmp_path / "b", config, logz=-6.0, seed=1)
    for folder in (a, b):  # crafted checkpoints beside the results
        (folder / "dynesty.save").write_bytes(pickle.dumps(Evil(marker)))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a read command unpickled something")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    code, out, err = cli("compare", str(a), str(b))
    assert code == 0, err
    assert "ln B (A vs B)" in out
    from inference.output.plots_data import load_run_view
    from inference.output.report import collect_report_data

    report = collect_report_data([a, b], a.parent / "report")  # what `report` reads
    assert [r.folder for r in report.runs] == [a, b] and all(r.evidence for r in report.runs)
    assert len(load_run_view(a).weights) > 0  # what `plot` reads
    assert not marker.exists()
