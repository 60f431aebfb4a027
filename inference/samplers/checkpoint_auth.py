"""Signed checkpoints: a pickle is loaded only if this user's darkportal wrote it.

Unpickling runs code that the file names, so a crafted ``dynesty.save`` in a shared results folder could
run anything on ``--resume`` (issue 12). Every pickle darkportal writes carries an HMAC-SHA256 of its
bytes under a per-user key; the MAC is checked before a single byte is unpickled, and a file without a
valid MAC is refused with :class:`CheckpointAuthError`.

The key is 32 random bytes in ``$DARKPORTAL_KEY_FILE`` if set, else
``$XDG_CONFIG_HOME/darkportal/checkpoint.key`` (``~/.config/darkportal/checkpoint.key``), created on first
use with mode 0600 in a 0700 folder. It lives outside every results folder, so copying a folder to
another user never carries the key with it; a key file that others can read or write is refused.

File layout: ``MAGIC`` (one line), the hex MAC (one line), then the pickle. Written to a temporary file,
fsynced and renamed, so a kill leaves either the previous checkpoint or the new one, both signed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import stat
from pathlib import Path
from typing import Any

from inference.errors import DarkportalError

MAGIC = b"DARKPORTAL-SIGNED-PICKLE 1\n"
_MAC_LEN = 64  # hex digits of SHA-256
KEY_BYTES = 32


class CheckpointError(DarkportalError):
    """A checkpoint cannot be used (missing, empty, damaged, or not darkportal's); the message names the file
    and the fix."""

    def __init__(self, path: Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = Path(path), problem, fix
        super().__init__(f"{path}: {problem}. {fix}")


class CheckpointAuthError(CheckpointError):
    """The checkpoint's signature does not match this user's key: it is never unpickled."""


class KeyFileError(DarkportalError):
    """The per-user key file cannot be created or is unsafe."""


def key_path() -> Path:
    """Where the per-user key lives (module docstring)."""
    explicit = os.environ.get("DARKPORTAL_KEY_FILE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "darkportal" / "checkpoint.key"


def user_key() -> bytes:
    """The per-user key, created (0600) on first use."""
    path = key_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise KeyFileError(f"cannot create the checkpoint key {path} ({exc.strerror}); set DARKPORTAL_KEY_FILE "
                           "to a file in a folder you can write, outside any results folder") from None
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            raise KeyFileError(f"the checkpoint key {path} can be read or changed by other users (mode "
                               f"{stat.filemode(info.st_mode)}); run 'chmod 600 {path}' (or delete it: a new key is "
                               "made, and checkpoints signed with the old one can no longer be resumed)")
        key = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the checkpoint key {path} ({exc.strerror})") from None
    if len(key) < 16:
        raise KeyFileError(f"the checkpoint key {path} is damaged ({len(key)} bytes); delete it (a new one is "
                           "made; checkpoints signed with the old key can then no longer be resumed)")
    return key


def hdf5_reason(exc: BaseException) -> str:
    """h5py's reason for not opening a file, in words (its own text names no file and no fix)."""
    text = str(exc)
    if "signature not found" in text:
        return "not an HDF5 file"
    if "truncated" in text or "eof" in text.lower():
        return "truncated"
    return f"damaged ({type(exc).__name__})"


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).hexdigest().encode("ascii")


def dump_signed(obj: Any, path: Path) -> None:
    """Pickle ``obj`` to ``path`` with this user's MAC, atomically."""
    path = Path(path)
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(MAGIC + _mac(user_key(), payload) + b"\n" + payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_verified(path: Path, what: str, restart: str) -> bytes:
    """The pickle bytes of a signed file, after checking its MAC; nothing is unpickled here.

    ``what`` names the file's role in messages, ``restart`` is the command that starts the run again."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(path, f"the {what} does not exist", restart) from None
    except OSError as exc:
        raise CheckpointError(path, f"cannot read the {what} ({exc.strerror})", "Check the file's permissions") \
            from None
    if not blob:
        raise CheckpointError(path, f"the {what} is empty (0 bytes; the run was probably killed while the disk "
                              "was full)", restart)
    head = len(MAGIC) + _MAC_LEN + 1
    if not blob.startswith(MAGIC):
        if blob[:1] == b"\x80":  # a bare pickle, as dynesty itself or darkportal before signing wrote them
            raise CheckpointAuthError(path, f"the {what} is an unsigned pickle, not written by this user's "
                                      "darkportal; it is not loaded, because loading a pickle can run any code "
                                      "it names", restart)
        raise CheckpointError(path, f"the {what} is not a darkportal checkpoint (unknown content)", restart)
    if len(blob) <= head or blob[head - 1:head] != b"\n":
        raise CheckpointError(path, f"the {what} is truncated ({len(blob)} bytes)", restart)
    mac, payload = blob[len(MAGIC):head - 1], blob[head:]
    if not hmac.compare_digest(mac, _mac(user_key(), payload)):
        raise CheckpointAuthError(
            path, f"the {what}'s signature does not match this user's key ({key_path()}): it is damaged "
            "(truncated or changed) or was written by someone else's darkportal; it is not loaded, because "
            "loading a pickle can run any code it names", restart)
    return payload


def load_signed(path: Path, what: str, restart: str) -> Any:
    """Unpickle ``path`` after :func:`read_verified`; an unpicklable payload gives a CheckpointError."""
    payload = read_verified(path, what, restart)
    try:
        return pickle.loads(payload)  # the MAC proves this user's darkportal wrote it
    except Exception as exc:  # a signed file that does not unpickle: another darkportal/dynesty version
        raise CheckpointError(path, f"the {what} cannot be read by this darkportal ({type(exc).__name__}: {exc}); "
                              "it was probably written by another version", restart) from None
