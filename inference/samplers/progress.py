"""Progress of long work (sampling, predictions for the samples): a bar with rate and ETA on a terminal, plain
timestamped lines when the output goes to a file or a pipe.

    progress = Progress("dynesty", unit="it", every=10.0)
    progress.update(done=1200, total=10800, message="12 000 calls, ln Z -14.2")
    progress.close("done: ln Z = -11.3 +/- 0.1")

The style is chosen once per :class:`Progress` from where stderr goes: ``bar`` (tqdm, redrawn in place) when it is
a terminal, ``lines`` (one ``logging`` record at most every ``every`` seconds, with the UTC time, elapsed time,
rate and ETA in the text) otherwise, as in ``make run``, where two runs share one output. ``DARKPORTAL_PROGRESS``
= ``bar`` | ``lines`` | ``off`` overrides the choice. A total may change while the work runs (samplers only
estimate how much is left); the ETA is then ``~``: an estimate from the rate so far.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import sys
import time
from typing import Any, TextIO

from inference.errors import DarkportalError

log = logging.getLogger(__name__)

STYLES = ("bar", "lines", "off")
ENV = "DARKPORTAL_PROGRESS"


class ProgressStyleError(DarkportalError, ValueError):
    """DARKPORTAL_PROGRESS holds something other than bar, lines or off."""


def progress_style(stream: TextIO | None = None) -> str:
    """``DARKPORTAL_PROGRESS`` if set, else ``bar`` when ``stream`` (default stderr) is a terminal or the code runs
    in a Jupyter kernel, else ``lines``."""
    chosen = os.environ.get(ENV, "").strip().lower()
    if chosen:
        if chosen not in STYLES:
            raise ProgressStyleError(f"{ENV}={chosen!r}: expected one of {', '.join(STYLES)}")
        return chosen
    if stream is None and "ipykernel" in sys.modules:  # a Jupyter notebook: tqdm draws a widget or text bar
        return "bar"
    stream = sys.stderr if stream is None else stream
    try:
        return "bar" if stream.isatty() else "lines"
    except (AttributeError, ValueError):  # a closed or unusual stream
        return "lines"


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if not math.isfinite(seconds):
        return "?"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class Progress:
    """One long job's progress; see the module docstring. ``total=None``: no ETA (only the rate)."""

    def __init__(self, label: str, total: float | None = None, unit: str = "it", every: float = 10.0,
                 style: str | None = None, stream: TextIO | None = None, estimated: bool = False) -> None:
        self.label = label
        self.unit = unit
        self.every = every
        self.total = total
        self.estimated = estimated
        self.stream = sys.stderr if stream is None else stream
        self.style = style or progress_style(self.stream)
        if self.style not in STYLES:
            raise ProgressStyleError(f"progress style {self.style!r}: expected one of {', '.join(STYLES)}")
        self.start = time.monotonic()
        self.done = 0.0
        self._first: float | None = None  # `done` at the first update: a resumed run's earlier work has no rate
        self._first_time = self.start
        self._last_line = -math.inf
        self._bar: Any = None
        if self.style == "bar":
            from tqdm.auto import tqdm  # the notebook widget under Jupyter (when ipywidgets is there), else text

            approx = "~" if estimated else ""
            fmt = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/" + approx + "{total_fmt} {unit} [{elapsed}<"
                   + approx + "{remaining}, {rate_fmt}{postfix}]")
            self._bar = tqdm(total=_whole(total), desc=label, unit=unit, file=self.stream, dynamic_ncols=True,
                             mininterval=0.5, smoothing=0.1, leave=True, bar_format=fmt)

    # -- numbers -----------------------------------------------------------------------------------
    def rate(self) -> float:
        """Units per second since the first update (NaN before there is any)."""
        if self._first is None or self.done <= self._first:
            return math.nan
        elapsed = time.monotonic() - self._first_time
        return (self.done - self._first) / elapsed if elapsed > 0 else math.nan

    def eta(self) -> float:
        """Seconds left at the rate so far (NaN without a total or a rate)."""
        rate = self.rate()
        if self.total is None or not rate > 0:
            return math.nan
        return max(self.total - self.done, 0.0) / rate

    # -- reporting ---------------------------------------------------------------------------------
    def update(self, done: float, message: str = "", total: float | None = None, force: bool = False) -> None:
        """Now ``done`` units of the (new, if given) ``total`` are finished; ``message``: the sampler's own state."""
        if total is not None:
            self.total = total
        if self._first is None:
            self._first, self._first_time = float(done), time.monotonic()
        self.done = float(done)
        if self._bar is not None:
            if total is not None and self._bar.total != _whole(total):
                self._bar.total = _whole(total)
            if message:
                self._bar.set_postfix_str(message, refresh=False)
            self._bar.update(_whole(self.done) - self._bar.n)
            if force:
                self._bar.refresh()
        elif self.style == "lines":
            now = time.monotonic()
            if force or now - self._last_line >= self.every:
                self._last_line = now
                log.info("%s", self.line(message))

    def line(self, message: str = "") -> str:
        """``2026-12-01 10:02:03Z dynesty: 1200/~10800 it (11 %), 310 it/s, elapsed 4 s, ETA ~31 s; message``."""
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        approx = "~" if self.estimated else ""
        count = f"{self.done:,.0f}"
        if self.total is not None and self.total > 0:
            count += f"/{approx}{self.total:,.0f} {self.unit} ({min(100.0, 100 * self.done / self.total):.0f} %)"
        else:
            count += f" {self.unit}"
        rate = self.rate()
        parts = [count]
        if math.isfinite(rate):
            parts.append(f"{rate:,.3g} {self.unit}/s")
        parts.append(f"elapsed {duration(time.monotonic() - self.start)}")
        eta = self.eta()
        if math.isfinite(eta):
            parts.append(f"ETA {approx}{duration(eta)}")
        return f"{stamp} {self.label}: {', '.join(parts)}" + (f"; {message}" if message else "")

    def close(self, message: str = "") -> None:
        """Finish the bar (or write a last line) and log ``message``."""
        if self._bar is not None:
            if self.total is not None and self.done >= self.total * 0.999:
                self._bar.total = _whole(self.done)  # an estimated total: show the bar full at the end
            self._bar.refresh()
            self._bar.close()
            self._bar = None
        if message and self.style != "off":
            stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            log.info("%s %s: %s (%s)", stamp, self.label, message, duration(time.monotonic() - self.start))

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _whole(x: float | None) -> int | None:
    return None if x is None else round(x)


def nested_sampling_total(niter: int, nlive: int, delta_logz: float, dlogz: float) -> float | None:
    """Expected iterations of a static nested-sampling run when it stops, from where it is now.

    dynesty stops when the live points could add at most ``dlogz`` to ln Z: delta = ln(1 + L_max X / Z) < dlogz.
    Each iteration shrinks the prior volume X by exp(-1/nlive); with L_max and Z as they are now (true late in a
    run, an underestimate early, while L_max still grows), L_max X / Z falls from exp(delta) - 1 to
    exp(dlogz) - 1 in nlive ln((exp(delta) - 1) / (exp(dlogz) - 1)) more iterations. None when delta is not
    finite yet (no live point has a finite log L).
    """
    if not (math.isfinite(delta_logz) and dlogz > 0 and nlive > 0):
        return None
    if delta_logz <= dlogz:
        return float(niter)
    log_now = delta_logz if delta_logz > 30 else math.log(math.expm1(delta_logz))  # ln(exp(d) - 1)
    return float(niter) + nlive * (log_now - math.log(math.expm1(dlogz)))
