"""The joint likelihood's fast path: the fused physics kernel plus the closed-form terms, one plan per likelihood.

:class:`FastPath` holds what ``JointLikelihood.fast_loglike_point`` / ``fast_loglike`` need: the fused
predictor of the likelihood's observables (physics.fused), the closed forms of its terms
(likelihoods.terms.fast_form) and, where numba is available, the same in compiled code
(likelihoods.compiled). Its values equal ``JointLikelihood.loglike`` to rounding (~1e-14) and may be NaN or
+inf where the reference path would raise: the caller checks them. Built by :func:`build_fast_path`, which
returns None where the likelihood has no fused path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from likelihoods.compiled import CompiledLoglike
from likelihoods.compiled import build as build_compiled
from likelihoods.terms import FastForm, FloatArray, Term, fast_form, fast_total, fast_total_array

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FastPath:
    predictor: Any  # physics.fused.FusedPredictor
    in_domain_point: Callable[[Sequence[float]], bool]
    forms: list[FastForm]
    inputs: list[tuple[int, float, int]]  # per term: observable index, SM value added, window observable
    compiled: CompiledLoglike | None  # the same in compiled code (likelihoods.compiled), where available

    def point(self, values: Sequence[float]) -> float:
        """Total log-likelihood at one point, 8 floats in physics.PARAM_NAMES order (GeV units)."""
        if self.compiled is not None:  # checks the domain itself
            return self.compiled.point(np.asarray(values, dtype=float))
        if not self.in_domain_point(values):
            return -np.inf
        preds = self.predictor.point(values)
        return fast_total(self.forms, [preds[i] + shift for i, shift, _ in self.inputs],
                          [preds[w] for _, _, w in self.inputs])

    def batch(self, theta: FloatArray, chunk: int = 4096) -> FloatArray:
        """:meth:`point` at the rows of theta, shape (N, 8); the Python form in chunks of ``chunk`` points
        (arrays that stay in the CPU cache)."""
        theta = np.asarray(theta, dtype=float)
        if self.compiled is not None:
            return self.compiled.batch(theta)
        from physics import ModelParams, in_domain
        out = np.full(theta.shape[0], -np.inf)
        inside = np.flatnonzero(in_domain(ModelParams.from_array(theta)))
        for start in range(0, inside.size, chunk):
            idx = inside[start:start + chunk]
            preds = self.predictor.batch(theta[idx])
            out[idx] = fast_total_array(self.forms, [preds[i] + shift for i, shift, _ in self.inputs],
                                        [preds[w] for _, _, w in self.inputs], idx.size)
        return out


def build_fast_path(terms: Sequence[Term], observables: Sequence[str], options: Any,
                    label: str = "") -> FastPath | None:
    """The fast path of these terms (reading ``observables``) at these theory options, or None where the fused
    kernel does not cover them or a window observable has an SM value."""
    from physics.fused import fused_predictor, in_domain_point
    names = tuple(observables)
    predictor = fused_predictor(names, options)
    if predictor is None:
        return None
    inputs = []
    for t in terms:
        i = names.index(t.spec.observable)
        sm = predictor.sm[i]
        # window observables are read as SM + NP, as JointLikelihood._inputs does
        w = names.index(t.spec.window_observable) if t.spec.window_observable else i
        if t.spec.window_observable and predictor.sm[w] is not None:
            return None
        inputs.append((i, sm if t.spec.applies_to == "total" and sm is not None else 0.0, w))
    forms = [fast_form(t) for t in terms]
    compiled = build_compiled(predictor._k, forms, inputs, names)
    log.debug("likelihood %s: fused fast path on (%s)", label, "compiled" if compiled is not None else "Python")
    return FastPath(predictor, in_domain_point, forms, inputs, compiled)
