"""The base class of every darkportal error, and the one did-you-mean helper.

They live here, in the lowest layer, so that ``physics``, ``likelihoods``, ``priors`` and ``inference``
can all derive from the same base (``inference.errors`` re-exports both). An error keeps the facts it
reports (file, key, term, value...) as attributes set by its constructor and builds its message from
them: code that needs to know which term or key failed reads the attribute, never the message text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

#: how similar (difflib ratio, 0..1) a word must be to a choice to be suggested, everywhere
CLOSE_MATCH_CUTOFF = 0.6


class DarkportalError(Exception):
    """Base class of darkportal's named errors; the CLI prints them as one line, without a traceback."""


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (difflib, ignoring case), or None when nothing is close enough.

    An exact match up to case wins outright; ``word`` that is not a string has no close choice.
    """
    options = [str(c) for c in choices]
    if not isinstance(word, str) or not options:
        return None
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=CLOSE_MATCH_CUTOFF)
    return lowered[match[0]] if match else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the choice closest to ``word``, or ``""`` when nothing is close."""
    hit = closest(word, choices)
    return f" (did you mean {hit!r}?)" if hit is not None else ""


def suggestion(word: object, choices: Iterable[str], what: str = "one of") -> str:
    """``Did you mean 'x'? Use <what> 'a', 'b', 'c'`` (only the list when nothing is close)."""
    options = list(choices)
    hit = closest(word, options)
    listing = ", ".join(repr(c) for c in options)
    if hit is not None:
        return f"Did you mean {hit!r}? Use {what} {listing}"
    return f"Use {what} {listing}"


def type_name(value: object) -> str:
    """How YAML wrote ``value``, in words a run-file author knows (``a string ('one')``, ``a boolean (true)``).
    YAML booleans are named as such: ``True`` is an int to Python, never a number to a run file."""
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class NonFiniteLikelihoodError(DarkportalError, FloatingPointError):
    """A log-likelihood, a term or a log-prior came out NaN or +inf: a bug upstream, never a legal value.

    Attributes: ``source`` (what returned it: ``log_likelihood``, ``log_prior``, ... or the term), ``value``,
    ``point`` (parameter name -> value), ``index`` (the row among the points evaluated, or None),
    ``units`` (of ``point``, "" when they are the sampler's), and for a term ``term``, ``observable`` and
    ``prediction`` (the observable's value there).
    """

    def __init__(self, source: str, value: float, point: Mapping[str, float], *, index: int | None = None,
                 units: str = "", term: str | None = None, observable: str | None = None,
                 prediction: float | None = None) -> None:
        self.source = source
        self.value = value
        self.point = dict(point)
        self.index = index
        self.units = units
        self.term = term
        self.observable = observable
        self.prediction = prediction
        what = f"term {term!r}" if term is not None else source
        given = f" for {observable} = {prediction!r}" if observable is not None else ""
        if self.point:
            where = ("the point " if index is None else f"point {index} ") + (f"({units}) " if units else "") \
                + ", ".join(f"{k}={v:.6g}" for k, v in self.point.items())
        else:
            where = f"point index {index}"
        super().__init__(f"{what} returned {value}{given} at {where}")
