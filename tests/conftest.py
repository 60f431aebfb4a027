"""Session-wide test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_checkpoint_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Checkpoints are signed with a per-user key (inference.samplers.checkpoint_auth): the tests, and the runs
    they start in subprocesses, use a key of their own instead of creating or reading the user's."""
    old = os.environ.get("DARKPORTAL_KEY_FILE")
    os.environ["DARKPORTAL_KEY_FILE"] = str(tmp_path_factory.mktemp("darkportal-key") / "checkpoint.key")
    yield
    if old is None:
        os.environ.pop("DARKPORTAL_KEY_FILE", None)
    else:
        os.environ["DARKPORTAL_KEY_FILE"] = old
