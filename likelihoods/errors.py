"""Named exceptions of the likelihood layer."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LikelihoodConfigError(ValueError):
    """A measurement set, term name, kind or override is wrong; the message says which and how to fix it."""


class MeasurementDataError(ValueError):
    """``likelihoods/data/measurements.yaml`` is malformed (missing source, bad numbers, unknown key)."""


class NonFiniteLikelihoodError(ArithmeticError):
    """A term returned NaN or +inf: a bug. The message names the term and the parameter point."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' if nothing is close."""
    hits = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {hits[0]!r}?)" if hits else ""
