"""The physics kernel: one point in, every observable of :data:`KERNEL_NAMES` out, compiled by numba.

The kernel writes no formula of its own: it calls the ``physics.jit.shared`` functions of the physics modules
(rates per unit coupling^2, widths, form factors, couplings, the g-2 and R pieces), which numba compiles in
here, with the physical constants of physics.constants.VALUES folded in at compile time. What depends on the
TheoryOptions (the couplings at unit eta, the sigma terms, the K_L convention, R's denominators, the Chebyshev
form of K+ -> mu+ nu S, the paper units) is a :class:`KernelConstants` record read from one flat array whose
layout the record's field order defines (:data:`SLOT`). ``cache=True``: compiled once per machine, reused from
``__pycache__``. Without numba, or with ``DARKPORTAL_JIT=0`` in the environment, :data:`ENABLED` is False and the
same functions run as plain Python. ``physics.predict`` composes the same functions over arrays;
tests/physics/test_fast_paths.py holds the two to 1e-10 relative, with and without numba.

Layout: ``consts`` is :func:`flatten` of the KernelConstants, ``t2`` the bicubic pieces of the five 2-D
scattering tables (cells x tables x 16), ``x2``/``y2`` their cell edges in ln m_S and m_nu4, ``t1`` the
CHARM-II Z' cubics (4 x intervals x 2), ``x1`` their knots. Outputs are in KERNEL_NAMES order.
"""

from __future__ import annotations

import collections
import functools
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from physics import bmeson, constants, couplings, decays, domain, g2, kaon, miniboone, mixing, nucleon, params, registry
from physics import jit as jit_module
from physics.constants import VALUES
from physics.jit import ENABLED, clear_stale_cache, jit, ratio
from physics.options import TheoryOptions
from physics.params import PAPER_UNIT_FACTORS, PARAM_NAMES, FloatArray
from physics.registry import KMUNUEE_MEE_MIN, KSTEE_WINDOW

#: the files whose jitted functions or constants the kernel compiles in (for clear_stale_cache)
JIT_SOURCES = (*(m.__file__ or "" for m in (bmeson, constants, couplings, decays, domain, g2, kaon, miniboone,
                                             mixing, nucleon, params, registry, jit_module)),
               str(Path(constants.__file__ or "").parent / "data" / "constants.yaml"))
if ENABLED:
    clear_stale_cache(__file__, JIT_SOURCES)


# ------------------------------------------------------------------------------------------ outputs
#: What the kernel computes, in output order: the one list of the observables it covers (tests derive from it).
KERNEL_NAMES: tuple[str, ...] = (
    "BR(B+->K+S)", "BR(B0->K*0S)", "BR(B+->K*+S)", "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)",
    "BR(B0->K*0ee)[0.03,1]", "BR(Bs->gammagamma)", "BR(Bs->mumu)", "BR(K+->pi+S)", "BR(KL->pi0S)",
    "BR(KS->pi0S)", "BR(K+->pi+nunu)", "BR(KL->pi0nunu)", "BR(KL->pi0ee)", "BR(KL->pi0gammagamma)",
    "BR(KS->pi0gammagamma)", "BR(K+->pi+gammagamma)", "DeltaM_Bs", "DeltaM_K", "Gamma_S", "BR(S->gammagamma)",
    "BR(S->ee)", "BR(S->nunu)", "ctau_S", "tau_S", "g_Sp", "g_Sn", "BR(K+->mu+nuee)[mee>140]", "Delta_a_mu",
    "R_MiniBooNE", "R_CHARMII", *PARAM_NAMES)
N_OUT = len(KERNEL_NAMES)
_O_PARAMS = N_OUT - len(PARAM_NAMES)
_N_CHEB = 13  # coefficients of the Chebyshev form of K+ -> mu+ nu S (kaon.kmunus_chebyshev)
_KL_MODES = {"re": 0.0, "im": 1.0, "abs": 2.0}


# ------------------------------------------------------------------------------------------ constants
class KernelConstants(NamedTuple):
    """What the kernel reads at one TheoryOptions besides the compiled-in physical constants.

    The couplings are linear in the eta's (physics.couplings), so the kernel takes them at unit eta:
    |g_bs|^2 = gbs2 eta_t^2 and g_sd = eta_t g_sd(1, 0) + eta_c g_sd(0, 1). The field order defines the flat array
    the compiled code reads (:func:`flatten`, slots :data:`SLOT`); a tuple field takes as many slots as
    ``_WIDTHS`` gives it.
    """

    gbs2: float  # |couplings.g_bs(eta_t = 1)|^2
    gsd_t_re: float  # couplings.g_sd(eta_t = 1, eta_c = 0)
    gsd_t_im: float
    gsd_c_re: float  # couplings.g_sd(eta_t = 0, eta_c = 1)
    gsd_c_im: float
    kl_mode: float  # options.kl_convention: 0 re, 1 im, 2 abs
    fTu_p: float  # sigma terms of options (physics.nucleon)
    fTd_p: float
    fTu_n: float
    fTd_n: float
    fTs: float
    r_denominator: float  # R's denominator: miniboone.zp_denominator [x calibration_factor if calibrated]
    charm_denominator: float  # CHARM-II Z' prefactor (miniboone._zp_prefactor at options.charm_U)
    cheb_lo: float  # kaon.kmunus_chebyshev: range [GeV] and coefficients
    cheb_hi: float
    unit: tuple[float, ...]  # params.PAPER_UNIT_FACTORS in PARAM_NAMES order
    cheb: tuple[float, ...]


_WIDTHS = {"unit": len(PARAM_NAMES), "cheb": _N_CHEB}
_Slots = collections.namedtuple("_Slots", KernelConstants._fields)  # type: ignore[misc]
#: index of each KernelConstants field in the flat array (first slot of a tuple field); numba reads it as
#: compile-time constants
SLOT: Any = _Slots(*itertools.accumulate((_WIDTHS.get(f, 1) for f in KernelConstants._fields[:-1]), initial=0))
N_CONSTS = SLOT[-1] + _WIDTHS[KernelConstants._fields[-1]]


def flatten(k: KernelConstants) -> FloatArray:
    """The flat float array of ``k`` in field order (the layout :data:`SLOT` indexes)."""
    out: list[float] = []
    value: Any
    for name, value in zip(KernelConstants._fields, k, strict=True):
        if name in _WIDTHS:
            if len(value) != _WIDTHS[name]:
                raise ValueError(f"kernel field {name} needs {_WIDTHS[name]} values, got {len(value)}")
            out.extend(float(x) for x in value)
        else:
            out.append(float(value))
    return np.array(out)


def kernel_constants(options: TheoryOptions) -> KernelConstants:
    """The kernel's options-dependent inputs, from the physics modules (sources there).
    Raises miniboone.UntabulatedOptionError where the shipped tables do not cover the options."""
    g_bs1 = complex(np.asarray(couplings.g_bs(1.0))[()])
    g_t, g_c = (complex(np.asarray(couplings.g_sd(et, ec))[()]) for et, ec in ((1.0, 0.0), (0.0, 1.0)))
    miniboone.fast_table_names(options)  # raises UntabulatedOptionError where no table is shipped
    r_den = miniboone.zp_denominator(options)
    if options.r_normalisation == "calibrated":
        r_den *= miniboone.calibration_factor(options)
    cheb_lo, cheb_hi, cheb = kaon.kmunus_chebyshev()
    return KernelConstants(
        gbs2=abs(g_bs1) ** 2, gsd_t_re=g_t.real, gsd_t_im=g_t.imag, gsd_c_re=g_c.real, gsd_c_im=g_c.imag,
        kl_mode=_KL_MODES[options.kl_convention], fTu_p=options.fTu_p, fTd_p=options.fTd_p, fTu_n=options.fTu_n,
        fTd_n=options.fTd_n, fTs=options.fTs, r_denominator=r_den,
        charm_denominator=miniboone._zp_prefactor(options, options.charm_U), cheb_lo=cheb_lo, cheb_hi=cheb_hi,
        unit=tuple(PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES), cheb=cheb)


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


_KSTEE_LO, _KSTEE_HI = KSTEE_WINDOW
_V = VALUES


@jit
def evaluate(v: FloatArray, c: FloatArray, t2: FloatArray, x2: FloatArray, y2: FloatArray, t1: FloatArray,
             x1: FloatArray, out: FloatArray) -> None:
    """NP parts of every KERNEL_NAMES observable at v = (kappa, ..., m_nu4) in GeV units, written to out, from the
    shared physics formulas (sources in their modules). Assumes v is inside the domain (:func:`in_domain`)."""
    kappa, eta_d, eta_c, eta_t, g_D, U, m_S, m_4 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
    # couplings (linear in the eta's: physics.couplings at unit eta)
    gbs2 = c[SLOT.gbs2] * (eta_t * eta_t)
    re = eta_t * c[SLOT.gsd_t_re] + eta_c * c[SLOT.gsd_c_re]
    im = eta_t * c[SLOT.gsd_t_im] + eta_c * c[SLOT.gsd_c_im]
    re2, im2 = re * re, im * im
    gsd2 = re2 + im2
    # S widths and branching ratios (physics.decays)
    gg = decays.width_gammagamma(kappa, m_S)
    ee = decays.width_leptons(eta_d, m_S, _V.m_e)
    mumu = decays.width_leptons(eta_d, m_S, _V.m_mu)
    nunu = decays.width_nunu(g_D, U, m_S)
    tot = gg + ee + mumu + nunu
    br_gg, br_ee, br_nunu = ratio(gg, tot, 0.0), ratio(ee, tot, 0.0), ratio(nunu, tot, 0.0)
    br_vis = ratio(gg + ee + mumu, tot, 0.0)
    # two-body B and K decays to S (physics.bmeson, physics.kaon)
    bks = gbs2 * bmeson.rate_B_to_K_S(m_S, _V.m_Bp, _V.m_Kp, _V.tau_Bp)
    kst0 = gbs2 * bmeson.rate_B_to_Kstar_S(m_S, _V.m_B0, _V.m_Kst0, _V.tau_B0)
    kstp = gbs2 * bmeson.rate_B_to_Kstar_S(m_S, _V.m_Bp, _V.m_Kstp, _V.tau_Bp)
    kp = gsd2 * kaon.rate_K_to_pi_S(m_S, _V.m_Kp, _V.m_pip, _V.tau_Kp)
    mode = c[SLOT.kl_mode]
    kl = (re2 if mode == 0.0 else im2 if mode == 1.0 else gsd2) * kaon.rate_K_to_pi_S(m_S, _V.m_K0, _V.m_pi0,
                                                                                        _V.tau_KL)
    ks = im2 * kaon.rate_K_to_pi_S(m_S, _V.m_K0, _V.m_pi0, _V.tau_KS)
    out[0], out[1], out[2] = bks, kst0, kstp
    out[3], out[4], out[5] = bks * br_nunu, kst0 * br_nunu, kstp * br_nunu
    out[6] = kst0 * br_ee * registry.in_window(m_S, _KSTEE_LO, _KSTEE_HI)
    out[7] = gbs2 * bmeson.rate_Bs_gammagamma_S(kappa, m_S)
    out[8] = gbs2 * bmeson.rate_Bs_mumu_S(eta_d * _V.m_mu / _V.v, m_S)
    out[9], out[10], out[11] = kp, kl, ks
    out[12], out[13], out[14], out[15] = kp * br_nunu, kl * br_nunu, kl * br_ee, kl * br_gg
    out[16], out[17] = ks * br_gg, kp * br_gg
    # meson mixing (physics.mixing)
    out[18] = gbs2 * mixing.rate_delta_m_bs(m_S)
    out[19] = gsd2 * mixing.rate_delta_m_k(m_S)
    out[20], out[21], out[22], out[23] = tot, br_gg, br_ee, br_nunu
    out[24] = decays.decay_length_mm(tot)
    out[25] = decays.lifetime_ps(tot)
    # nucleon couplings (physics.nucleon)
    g_Sp = nucleon.g_SN(_V.m_p, c[SLOT.fTu_p], c[SLOT.fTd_p], c[SLOT.fTs], eta_d, eta_c, eta_t)
    g_Sn = nucleon.g_SN(_V.m_n, c[SLOT.fTu_n], c[SLOT.fTd_n], c[SLOT.fTs], eta_d, eta_c, eta_t)
    out[26], out[27] = g_Sp, g_Sn
    # K+ -> mu+ nu S (S -> ee) above the m_ee cut, from the Chebyshev form of physics.kaon
    kmunu = 0.0
    if m_S >= KMUNUEE_MEE_MIN:
        kmunu = eta_d * eta_d * kaon.kmunus_fast(m_S, c[SLOT.cheb_lo], c[SLOT.cheb_hi],
                                                 c[SLOT.cheb:SLOT.cheb + _N_CHEB]) * br_ee
    out[28] = kmunu
    # muon g-2 (physics.g2): I(r) in closed form, r = m_S^2 / m_mu^2 <= 2.1 < 50 inside the domain
    out[29] = g2.kappa_leading_log(kappa, eta_d, m_S, _V.m_mu) \
        + g2.yukawa_coupling_factor(eta_d, _V.m_mu) * g2.yukawa_closed_form((m_S / _V.m_mu) ** 2)
    # scattering tables: bicubic pieces in (ln m_S, m_nu4), clamped to the knot range as FITPACK does
    k = np.empty(7)  # ln K_C, K_p, K_n, S_Si, S_O, then ln sigma_Z' of Si, O
    miniboone.ln_pieces_2d(t2, x2, y2, math.log(m_S), m_4, k)
    miniboone.ln_pieces_1d(t1, x1, m_4, k[5:])
    for j in range(7):
        k[j] = math.exp(k[j])
    ge = nucleon.g_eff_value(g_D, U)
    out[30] = miniboone.scalar_over_zp(ge, br_vis, miniboone.miniboone_hadronic(g_Sp, g_Sn, k[0], k[1], k[2]),
                                       c[SLOT.r_denominator])
    out[31] = miniboone.scalar_over_zp(ge, br_vis, miniboone.charm_hadronic(g_Sp, g_Sn, k[3], k[4]),
                                       c[SLOT.charm_denominator] * miniboone.charm_zp(k[5], k[6]))
    for j in range(v.size):
        out[_O_PARAMS + j] = v[j] / c[SLOT.unit + j]
