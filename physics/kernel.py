"""The physics kernel: one point in, every observable of :data:`KERNEL_NAMES` out, compiled by numba.

The kernel writes no formula of its own. The flavour, width, coupling and g-2 observables are
physics.observables.flavour, the composition physics.predict runs on arrays; MiniBooNE's R and CHARM-II's
ratio are composed from physics.miniboone's shared pieces, with the scattering tables read as piecewise
polynomials (the same splines). numba compiles the ``physics.jit.shared`` functions in here, with the physical
constants of physics.constants.VALUES folded in; what the TheoryOptions decide is the flat array of
physics.observables.KernelConstants. ``cache=True``: compiled once per machine, reused from ``__pycache__``.
Without numba, or with ``DARKPORTAL_JIT=0`` in the environment, :data:`ENABLED` is False and the same functions
run as plain Python. tests/physics/test_fast_paths.py holds the kernel to physics.predict to 1e-10 relative (the
tables as scipy splines, K+ -> mu+ nu S by quadrature there), with and without numba.

Layout: ``consts`` is physics.observables.flatten of the KernelConstants, ``t2`` the bicubic pieces of the five
2-D scattering tables (cells x tables x 16), ``x2``/``y2`` their cell edges in ln m_S and m_nu4, ``t1`` the
CHARM-II Z' cubics (4 x intervals x 2), ``x1`` their knots. Outputs are in KERNEL_NAMES order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from physics import domain, kaon, miniboone, nucleon, observables
from physics.jit import ENABLED, clear_stale_cache, jit
from physics.observables import FLAVOUR_NAMES, KMUNUEE_MEE_MIN, N_CHEB, SLOT, flatten, kernel_constants
from physics.options import TheoryOptions
from physics.params import PARAM_NAMES, FloatArray

#: the files whose jitted functions or constants the kernel compiles in (for clear_stale_cache): every module of
#: the physics package (the shared formulas live across it) and the constants' data file
JIT_SOURCES = (*sorted(str(f) for f in Path(__file__).parent.glob("*.py")),
               str(Path(__file__).parent / "data" / "constants.yaml"))
if ENABLED:
    clear_stale_cache(__file__, JIT_SOURCES)


# ------------------------------------------------------------------------------------------ outputs
#: What the kernel computes, in output order: the one list of the observables it covers (tests derive from it).
KERNEL_NAMES: tuple[str, ...] = (*FLAVOUR_NAMES, "R_MiniBooNE", "R_CHARMII", *PARAM_NAMES)
N_OUT = len(KERNEL_NAMES)
_N_FLAVOUR = len(FLAVOUR_NAMES)
_G_SP, _G_SN = FLAVOUR_NAMES.index("g_Sp"), FLAVOUR_NAMES.index("g_Sn")
_O_PARAMS = N_OUT - len(PARAM_NAMES)


@dataclass(frozen=True)
class KernelData:
    """The arrays the compiled kernel reads, for one TheoryOptions (see the module docstring)."""

    consts: FloatArray
    t2: FloatArray
    x2: FloatArray
    y2: FloatArray
    t1: FloatArray
    x1: FloatArray


def supports(names: Iterable[str], options: TheoryOptions) -> bool:
    """Whether the kernel computes every one of ``names`` at ``options`` (else use :func:`physics.predict`)."""
    return set(names) <= set(KERNEL_NAMES) and not options.g2_two_loop_bz and not options.g2_kappa_finite


@functools.cache
def kernel_data(options: TheoryOptions) -> KernelData:
    """The constants and table pieces of the kernel at ``options`` (cached; raises UntabulatedOptionError
    where the shipped tables do not cover the options)."""
    consts = flatten(kernel_constants(options))
    names2, names1 = miniboone.fast_table_names(options)
    p2, p1 = miniboone.SplinePieces(names2), miniboone.CubicPieces(names1)
    return KernelData(consts, np.ascontiguousarray(p2.coef, dtype=float), np.asarray(p2.x_edges, dtype=float),
                      np.asarray(p2.y_edges, dtype=float), np.ascontiguousarray(p1.coef, dtype=float),
                      np.asarray(p1.x, dtype=float))


# ------------------------------------------------------------------------------------------ the kernel
@jit
def in_domain(v: FloatArray) -> bool:
    """physics.domain.in_domain on one point, an array of 8 (GeV units): finite, and no domain.violations."""
    for i in range(v.size):
        if not math.isfinite(v[i]):
            return False
    a, b, c, d, e = domain.violations(v[4], v[5], v[6], v[7])
    return not (a or b or c or d or e)


@jit
def evaluate(v: FloatArray, c: FloatArray, t2: FloatArray, x2: FloatArray, y2: FloatArray, t1: FloatArray,
             x1: FloatArray, out: FloatArray) -> None:
    """NP parts of every KERNEL_NAMES observable at v = (kappa, ..., m_nu4) in GeV units, written to out.
    Assumes v is inside the domain (:func:`in_domain`)."""
    kappa, eta_d, eta_c, eta_t, g_D, U, m_S, m_4 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
    # B(K+ -> mu+ nu S) / eta_d^2 from its Chebyshev form, where the m_ee cut lets it count
    kmunu_unit = 0.0
    if m_S >= KMUNUEE_MEE_MIN:
        kmunu_unit = kaon.kmunus_fast(m_S, c[SLOT.cheb_lo], c[SLOT.cheb_hi], c[SLOT.cheb:SLOT.cheb + N_CHEB])
    br_vis = observables.flavour(kappa, eta_d, eta_c, eta_t, g_D, U, m_S, c, kmunu_unit, out)
    g_Sp, g_Sn = out[_G_SP], out[_G_SN]
    # scattering tables: bicubic pieces in (ln m_S, m_nu4), clamped to the knot range as FITPACK does
    k = np.empty(7)  # ln K_C, K_p, K_n, S_Si, S_O, then ln sigma_Z' of Si, O
    miniboone.ln_pieces_2d(t2, x2, y2, math.log(m_S), m_4, k)
    miniboone.ln_pieces_1d(t1, x1, m_4, k[5:])
    for j in range(7):
        k[j] = math.exp(k[j])
    ge = nucleon.g_eff_value(g_D, U)
    out[_N_FLAVOUR] = miniboone.scalar_over_zp(ge, br_vis, miniboone.miniboone_hadronic(g_Sp, g_Sn, k[0], k[1], k[2]),
                                               c[SLOT.r_denominator])
    out[_N_FLAVOUR + 1] = miniboone.scalar_over_zp(ge, br_vis, miniboone.charm_hadronic(g_Sp, g_Sn, k[3], k[4]),
                                                   c[SLOT.charm_denominator] * miniboone.charm_zp(k[5], k[6]))
    for j in range(v.size):
        out[_O_PARAMS + j] = v[j] / c[SLOT.unit + j]
