"""The ``darkportal`` dispatcher: --version, and every command's --help complete (no sentence cut off)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import pytest

from inference.cli import COMMANDS, USAGE, main


def test_version(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"darkportal {metadata.version('darkportal')} ")
    assert "--version" in USAGE


def test_version_from_the_installed_script():
    """The console script of the venv answers --version (what a newcomer types first)."""
    script = sys.executable.rsplit("/", 1)[0] + "/darkportal"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("darkportal "), done.stderr


def _help(capsys, name: str) -> str:
    """``darkportal NAME --help`` (argparse exits 0; a command may also catch that and return 0)."""
    try:
        code = main([name, "--help"])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)
    return capsys.readouterr().out


def _description(text: str) -> str:
    """The paragraph after argparse's usage block."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    assert len(blocks) >= 2, text
    return " ".join(blocks[1].split())


def _entries(text: str) -> list[str]:
    """The help of each argument (its lines joined), from the sections after the description."""
    entries: list[str] = []
    in_section = False
    for line in text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            in_section = True
            continue
        if not in_section or not line.strip():
            continue
        if re.match(r"^  \S", line):
            entries.append(line.strip())
        elif entries:
            entries[-1] += " " + line.strip()
    return entries


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_help_is_complete(capsys, name):
    text = _help(capsys, name)
    description = _description(text)
    assert description.endswith((".", ")", "?")), f"darkportal {name} --help: description cut off: {description!r}"
    # each argument's help, joined over its wrapped lines, must not end in a dangling word
    for entry in _entries(text):
        assert not re.search(r"\b(a|an|and|the|of|or|to|with)$|,$", entry), f"{name}: {entry!r}"
    # the one-line summary in the command list reads as a phrase
    assert not COMMANDS[name][1].rstrip().endswith((",", " a", " and", " the"))


def test_a_closed_pipe_stops_quietly():
    """``darkportal predict ... | head -1``: the reader leaves before the output is written; no error line, no
    traceback, status 141 (128 + SIGPIPE, what a shell reports for a Unix tool stopped by a closed pipe). The read
    end is closed at once: the command needs a second to import before it prints, so every write meets a closed
    pipe (reading a line first would let the whole output fit in the pipe's buffer and never fail)."""
    proc = subprocess.Popen([sys.executable, "-m", "inference.cli", "predict", "--point", "BP1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""
