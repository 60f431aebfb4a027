"""The joint likelihood's fast path: column map, domain check, physics kernel and term sum in one compiled call.

:class:`CompiledLoglike` evaluates what ``JointLikelihood.loglike`` does, for likelihoods whose observables
the physics kernel covers (:func:`physics.kernel.supports`): the sampler's vector goes in, the total
log-likelihood comes out, in one numba-compiled call per point (or per batch). The term forms are those of
:func:`likelihoods.terms.fast_form`; the physics is :func:`physics.kernel.evaluate`. Where numba is missing or
disabled (``DARKPORTAL_JIT=0``) the same functions run as plain Python.

A column map turns a sampler vector (free parameters, paper units) into the 8 physics parameters (GeV, in
physics.PARAM_NAMES order): value j is ``x[index[j]] * factor[j]`` for a free parameter, ``constant[j]``
for a fixed one (index -1): the arithmetic of ``RunConfig.to_params``. The identity map takes 8 GeV values.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from likelihoods.terms import FastForm, FloatArray, Term, fast_form, in_windows, term_loglike
from physics import kernel
from physics.jit import ENABLED, clear_stale_cache, jit
from physics.params import PARAM_NAMES

log = logging.getLogger(__name__)

_NP = len(PARAM_NAMES)
if ENABLED:  # the compiled functions below link in the physics kernel (kernel.JIT_SOURCES: every physics module and
    # the constants file) and read likelihoods/terms.py
    from likelihoods import terms

    clear_stale_cache(__file__, [*kernel.JIT_SOURCES, terms.__file__])


@jit
def _total(obs: FloatArray, ti: Any, tf: FloatArray, win: FloatArray) -> float:
    """Sum of the terms (closed forms of likelihoods.terms.fast_form) on the kernel outputs obs: ti rows (code,
    observable, window observable, first window, end of windows), tf rows (SM shift, centre, sigma_up,
    sigma_down, lo, hi)."""
    total = 0.0
    for t in range(ti.shape[0]):
        w0, w1 = ti[t, 3], ti[t, 4]
        if w1 > w0 and not in_windows(obs[ti[t, 2]], win, w0, w1):
            continue
        total += term_loglike(ti[t, 0], obs[ti[t, 1]] + tf[t, 0], tf[t, 1], tf[t, 2], tf[t, 3], tf[t, 4],
                              tf[t, 5])
    return total


# Packed layout (one int and one float buffer, so that a call unboxes three arrays instead of thirteen):
# ints   [0:8] column map, [8:8+_NH] sizes below, then the term table ti (n_terms x 5)
# floats column factors (8), column constants (8), kernel constants, t2, x2, y2, t1, x1, tf, windows
_NH = 8
_H_TERMS, _H_WIN, _H_CONSTS, _H_CELLS, _H_X2, _H_Y2, _H_X1, _H_ORDER = range(_NH)


@jit
def _unpack(ib: Any, fb: FloatArray) -> Any:
    h = ib[_NP:_NP + _NH]
    nt, nw, nc, ncell, nx2, ny2, nx1 = (h[_H_TERMS], h[_H_WIN], h[_H_CONSTS], h[_H_CELLS], h[_H_X2], h[_H_Y2],
                                        h[_H_X1])
    ti = ib[_NP + _NH:_NP + _NH + 5 * nt].reshape((nt, 5))
    o = 2 * _NP
    consts = fb[o:o + nc]
    o += nc
    t2 = fb[o:o + ncell * 80].reshape((ncell, 5, 16))
    o += ncell * 80
    x2 = fb[o:o + nx2]
    o += nx2
    y2 = fb[o:o + ny2]
    o += ny2
    t1 = fb[o:o + 8 * (nx1 - 1)].reshape((4, nx1 - 1, 2))
    o += 8 * (nx1 - 1)
    x1 = fb[o:o + nx1]
    o += nx1
    tf = fb[o:o + 6 * nt].reshape((nt, 6))
    o += 6 * nt
    win = fb[o:o + 2 * nw].reshape((nw, 2))
    return ti, consts, t2, x2, y2, t1, x1, tf, win


@jit
def _map_row(x: FloatArray, ib: Any, fb: FloatArray, v: FloatArray) -> None:
    """The column map (module docstring) of one sampler vector x, written to v (8 values, GeV)."""
    for j in range(_NP):
        i = ib[j]
        v[j] = x[i] * fb[j] if i >= 0 else fb[_NP + j]


@jit
def _map_rows(xs: FloatArray, ib: Any, fb: FloatArray, out: FloatArray) -> None:
    for n in range(xs.shape[0]):
        _map_row(xs[n], ib, fb, out[n])


def map_columns(xs: FloatArray, index: Sequence[int], factor: Sequence[float],
                constant: Sequence[float]) -> FloatArray:
    """The (N, 8) physics rows (GeV, PARAM_NAMES order) of the sampler vectors xs through a column map: the
    arithmetic of ``RunConfig.to_params``, by the same code the kernel path runs."""
    xs = np.ascontiguousarray(np.atleast_2d(xs), dtype=float)
    ib = np.asarray(list(index), dtype=np.int64)
    fb = np.concatenate([np.asarray(factor, dtype=float), np.asarray(constant, dtype=float)])
    if ib.size != _NP or fb.size != 2 * _NP or (xs.shape[0] and int(ib.max()) >= xs.shape[1]):
        raise ValueError(f"column map of {ib.size} entries does not fit rows of shape {xs.shape}")
    out = np.empty((xs.shape[0], _NP))
    _map_rows(xs, ib, fb, out)
    return out


@jit
def _point(x: FloatArray, ib: Any, fb: FloatArray, tables: Any, v: FloatArray, obs: FloatArray) -> float:
    _map_row(x, ib, fb, v)
    if not kernel.in_domain(v):
        return -math.inf
    ti, consts, t2, x2, y2, t1, x1, tf, win = tables
    kernel.evaluate(v, consts, t2, x2, y2, t1, x1, obs)
    return _total(obs, ti, tf, win)


@jit
def point_loglike(x: FloatArray, ib: Any, fb: FloatArray) -> float:
    """Total log-likelihood at one sampler vector x (-inf outside the physics domain)."""
    return _point(x, ib, fb, _unpack(ib, fb), np.empty(_NP), np.empty(kernel.N_OUT))


@jit
def batch_loglike(xs: FloatArray, ib: Any, fb: FloatArray, out: FloatArray) -> None:
    """:func:`point_loglike` at every row of xs, written to out."""
    tables = _unpack(ib, fb)
    v = np.empty(_NP)
    obs = np.empty(kernel.N_OUT)
    for n in range(xs.shape[0]):
        out[n] = _point(xs[n], ib, fb, tables, v, obs)


def _pack(index: Sequence[int], factor: Sequence[float], constant: Sequence[float], data: kernel.KernelData,
          ti: np.ndarray, tf: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, FloatArray, int]:
    cmap = np.array(list(index), dtype=np.int64)
    ndim = int(np.sum(cmap >= 0))
    if cmap.size != _NP or sorted(cmap[cmap >= 0].tolist()) != list(range(ndim)):
        raise ValueError(f"column map needs {_NP} entries, the free ones numbered 0..ndim-1: {list(index)}")
    if data.t2.shape[1:] != (5, 16) or data.t1.shape != (4, data.x1.size - 1, 2):
        raise ValueError(f"unexpected table shapes {data.t2.shape}, {data.t1.shape}")
    head = [len(ti), len(win), data.consts.size, data.t2.shape[0], data.x2.size, data.y2.size, data.x1.size, 0]
    ib = np.concatenate([cmap, np.array(head, dtype=np.int64), ti.ravel()]).astype(np.int64)
    fb = np.concatenate([np.asarray(factor, dtype=float), np.asarray(constant, dtype=float), data.consts,
                         data.t2.ravel(), data.x2, data.y2, data.t1.ravel(), data.x1, tf.ravel(), win.ravel()])
    return ib, fb, ndim


class CompiledLoglike:
    """One likelihood's compiled fast path: ``point(x)`` -> float, ``batch(xs)`` -> array.

    Build with :func:`build`. NaN or +inf is returned as it comes (the caller hands such points to the
    reference path, which names the point in its error). With numba off, the same code runs as Python.
    """

    def __init__(self, data: kernel.KernelData, forms: Sequence[FastForm],
                 inputs: Sequence[tuple[int, float, int]], names: Sequence[str],
                 column_map: tuple[Sequence[int], Sequence[float], Sequence[float]] | None = None):
        col = {n: i for i, n in enumerate(kernel.KERNEL_NAMES)}
        ti: list[tuple[int, ...]] = []
        tf: list[tuple[float, ...]] = []
        win: list[tuple[float, float]] = []
        for (code, c, s_up, s_down, lo, hi, windows), (i, shift, w) in zip(forms, inputs, strict=True):
            ti.append((code, col[names[i]], col[names[w]], len(win), len(win) + len(windows)))
            tf.append((shift, c, s_up, s_down, lo, hi))
            win.extend(windows)
        self._data = data
        self._terms = (np.array(ti, dtype=np.int64).reshape(-1, 5), np.array(tf, dtype=np.float64).reshape(-1, 6),
                       np.array(win, dtype=np.float64).reshape(-1, 2))
        index, factor, constant = column_map if column_map is not None else (range(_NP), [1.0] * _NP, [0.0] * _NP)
        self._ib, self._fb, self.ndim = _pack(index, factor, constant, data, *self._terms)

    def point(self, x: FloatArray) -> float:
        """Log-likelihood at one sampler vector (float64 array of ndim)."""
        return point_loglike(x, self._ib, self._fb)

    def batch(self, xs: FloatArray) -> FloatArray:
        """Log-likelihood at the rows of xs, shape (N, ndim)."""
        xs = np.ascontiguousarray(xs, dtype=float)
        if xs.ndim != 2 or xs.shape[1] != self.ndim:
            raise ValueError(f"kernel path takes rows of {self.ndim} values, got shape {xs.shape}")
        out = np.empty(xs.shape[0])
        if xs.shape[0]:
            batch_loglike(xs, self._ib, self._fb, out)
        return out

    def with_columns(self, index: Sequence[int], factor: Sequence[float],
                     constant: Sequence[float]) -> CompiledLoglike:
        """The same likelihood reading sampler vectors through another column map."""
        other = object.__new__(CompiledLoglike)
        other._data, other._terms = self._data, self._terms
        other._ib, other._fb, other.ndim = _pack(index, factor, constant, self._data, *self._terms)
        return other


def build(terms: Sequence[Term], observables: Sequence[str], options: Any,
          label: str = "") -> CompiledLoglike | None:
    """The fast path of these terms (reading ``observables``) at these theory options, or None where the kernel
    does not cover them or a window observable has an SM value. Raises miniboone.UntabulatedOptionError for
    options the shipped tables do not cover."""
    from physics.options import TheoryOptions
    from physics.registry import REGISTRY
    names = tuple(observables)
    options = options if options is not None else TheoryOptions()
    if not kernel.supports(names, options):
        return None
    sm = [REGISTRY[n].sm for n in names]
    inputs = []
    for t in terms:
        i = names.index(t.spec.observable)
        # window observables are read as SM + NP, as JointLikelihood._inputs does
        w = names.index(t.spec.window_observable) if t.spec.window_observable else i
        if t.spec.window_observable and sm[w] is not None:
            return None
        s = sm[i]
        inputs.append((i, s.value if t.spec.applies_to == "total" and s is not None else 0.0, w))
    log.debug("likelihood %s: kernel fast path (%s)", label, "compiled" if ENABLED else "plain Python")
    return CompiledLoglike(kernel.kernel_data(options), [fast_form(t) for t in terms], inputs, names)
