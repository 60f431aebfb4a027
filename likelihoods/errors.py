"""Named exceptions of the likelihood layer; each keeps what it reports (term, key, entry, value) as attributes.

All derive from ``physics.errors.DarkportalError``. ``NonFiniteLikelihoodError`` (the one class for a NaN or
+inf log-likelihood, also raised by the samplers' checks) and ``did_you_mean`` (the project's one did-you-mean
helper) are defined in ``physics.errors``, light to import, and re-exported here.
"""

from __future__ import annotations

from physics.errors import DarkportalError, NonFiniteLikelihoodError, did_you_mean

__all__ = ["LikelihoodConfigError", "MeasurementDataError", "NonFiniteLikelihoodError", "TermOverrideError",
           "did_you_mean"]


class LikelihoodConfigError(DarkportalError, ValueError):
    """A measurement set, mode, term name, kind or override is wrong; the message says which and how to fix it.

    Attributes: ``problem`` (what is wrong, with the fix), ``term`` (the term's name, or None when the error
    is not about one term) and ``key`` (the term setting at fault, or None). The message is ``term 'X', key:
    problem``; ``named=True`` says ``problem`` already names the term (a ``TermSpec``'s own message), and the
    message is then ``problem`` alone.
    """

    def __init__(self, problem: str, *, term: str | None = None, key: str | None = None,
                 named: bool = False) -> None:
        self.problem = problem
        self.term = term
        self.key = key
        where = "" if term is None or named else f"term {term!r}" + ("" if key is None else f", {key}") + ": "
        super().__init__(where + problem)


class TermOverrideError(LikelihoodConfigError):
    """A run's override of one term is wrong: an unknown term or key, or a value of the wrong type or range.

    Besides ``term`` and ``key``: ``value`` (what was given) and ``fix`` (how to correct it), so that the
    run-file layer can point at the file, key and line (``inference.config.sections``).
    """

    term: str  # always names the term

    def __init__(self, term: str, problem: str, fix: str, *, key: str | None = None, value: object = None) -> None:
        self.fix = fix
        self.value = value
        super().__init__(f"{problem}; {fix}", term=term, key=key)
        self.problem = problem


class MeasurementDataError(DarkportalError, ValueError):
    """A measurement entry is malformed (missing source, bad numbers, unknown key).

    Attributes: ``where`` (the file, set and entry as words), ``problem``, and ``entry`` (the entry's name,
    or None for a problem of the file or of a set).
    """

    def __init__(self, where: str, problem: str, *, entry: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.entry = entry
        super().__init__(f"{where}: {problem}")
