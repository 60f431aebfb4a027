"""Likelihood layer of darkportal: the paper's Table I as a measurement database, turned into terms.

Public API::

    MEASUREMENT_SETS = ("2023", "2025"); MODES = ("gaussian", "cuts"); TERM_KINDS = (...)
    available_terms(data_set, extra=()) -> list[str]; load_measurements(data_set, extra=())
    JointLikelihood.from_config(data_set, mode, softening=0.0, overrides=None, options=None, extra_entries=())
        .observables, .term_names, .logpdf(points, per_term=False, columns=None), .kernel_path(column map),
        .evaluate(params, extra=()) (total, per-term, predictions), .report(predictions), .describe()

Data: ``likelihoods/data/measurements.yaml`` (sources and notes per entry). Term kinds and the two modes:
:mod:`likelihoods.terms`.
"""

from likelihoods.database import (
    DATA_KEYS,
    ENTRY_KEYS,
    MEASUREMENT_SETS,
    NUMERIC_OVERRIDES,
    REQUIRED_ENTRY_KEYS,
    MeasurementEntry,
    available_terms,
    load_measurements,
    merge_entries,
    raw_entries,
    set_description,
)
from likelihoods.errors import LikelihoodConfigError, MeasurementDataError, NonFiniteLikelihoodError
from likelihoods.joint import DOMAIN_TERM, ConstraintResult, JointLikelihood
from likelihoods.terms import MODES, TERM_KINDS, Term, TermKind, TermSpec, half_normal_sigma, half_normal_z

__all__ = [
    "DATA_KEYS",
    "DOMAIN_TERM",
    "ENTRY_KEYS",
    "MEASUREMENT_SETS",
    "MODES",
    "NUMERIC_OVERRIDES",
    "REQUIRED_ENTRY_KEYS",
    "TERM_KINDS",
    "ConstraintResult",
    "JointLikelihood",
    "LikelihoodConfigError",
    "MeasurementDataError",
    "MeasurementEntry",
    "NonFiniteLikelihoodError",
    "Term",
    "TermKind",
    "TermSpec",
    "available_terms",
    "half_normal_sigma",
    "half_normal_z",
    "load_measurements",
    "merge_entries",
    "raw_entries",
    "set_description",
]
