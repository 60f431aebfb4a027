"""Ctrl-C and SIGTERM during a run: write the checkpoint at the next safe point, then stop with one line.

While :func:`graceful` is active, inside :func:`deferred` the first SIGINT or SIGTERM only sets a flag.
The sampler adapters call :func:`checkpoint_point` where their state is whole
(dynesty between iterations, emcee after a step,
scan after a batch): they save their checkpoint and :class:`RunInterrupted` is raised. A second signal
stops at once (the last periodic checkpoint is then what a resume starts from). Outside ``deferred`` a
signal raises RunInterrupted straight away, and the flag stays set so that the next ``deferred`` block
stops too (an exception raised in a signal handler can be swallowed by a weakref callback).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from inference.errors import DarkportalError

_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class RunInterrupted(DarkportalError):
    """The run was stopped by a signal; ``saved`` tells whether a checkpoint was written just now."""

    def __init__(self, signum: int, saved: bool = False) -> None:
        self.signum, self.saved = signum, saved
        super().__init__(f"stopped by {_NAMES.get(signal.Signals(signum), str(signum))}")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(signal.Signals(self.signum), 130)


class _State:
    requested: int | None = None
    deferred: bool = False


_state = _State()


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state.deferred and _state.requested is None:
        _state.requested = signum  # the sampler stops at its next safe point
        return
    # not deferred, or a second signal: stop now. An exception raised in a handler can land where Python
    # ignores it (a weakref callback, a __del__), so the flag stays set for the next safe point as well.
    _state.requested = signum
    raise RunInterrupted(signum)


@contextmanager
def graceful() -> Iterator[None]:
    """Install the SIGINT / SIGTERM handlers for the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old: dict[int, Any] = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _state.requested, _state.deferred = None, False
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _state.requested, _state.deferred = None, False


@contextmanager
def deferred() -> Iterator[None]:
    """Within :func:`graceful`: the first signal waits for :func:`checkpoint_point`."""
    if _state.requested is not None:  # a stop requested before (its exception may have been swallowed)
        raise RunInterrupted(_state.requested)
    before = _state.deferred
    _state.deferred = True
    try:
        yield
        if _state.requested is not None:  # arrived after the last safe point
            raise RunInterrupted(_state.requested)
    finally:
        _state.deferred = before


def requested() -> bool:
    return _state.requested is not None


def checkpoint_point(save: Callable[[], None]) -> None:
    """At a safe point: if a stop was requested, call ``save`` and raise :class:`RunInterrupted`."""
    signum = _state.requested
    if signum is None:
        return
    _state.deferred = False  # a signal during the save stops at once
    save()
    raise RunInterrupted(signum, saved=True)
