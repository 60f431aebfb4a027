"""The physics kernel: one point in, every observable of :data:`KERNEL_NAMES` out, compiled by numba.

The same formulas as the physics modules (sources there), each branching ratio written as coupling^2 x
constant x shape of m_S, the constants precomputed once per TheoryOptions (:func:`kernel_constants`, a
:class:`KernelConstants` record) and read from one flat array whose layout the record's field order defines
(:data:`SLOT`). ``cache=True``: compiled once per machine, reused from ``__pycache__``. Without numba, or with
``DARKPORTAL_JIT=0`` in the environment, :data:`ENABLED` is False and the same functions run as plain Python.
``physics.predict`` is the reference; tests/physics/test_fast_paths.py holds the two to 1e-10 relative, with
and without numba. benchmarks/README.md has the profile that motivated the kernel.

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
from typing import Any, NamedTuple

import numpy as np

from physics import bmeson, couplings, domain, g2, kaon, miniboone, mixing, params, registry
from physics import jit as jit_module
from physics.constants import CONST
from physics.domain import M_NU4_BOUNDS, M_S_BOUNDS, U_MU4_RANGE
from physics.jit import ENABLED, clear_stale_cache, jit
from physics.options import TheoryOptions
from physics.params import PAPER_UNIT_FACTORS, PARAM_NAMES, FloatArray
from physics.registry import KMUNUEE_MEE_MIN, KSTEE_WINDOW

#: the files whose jitted functions or constants the kernel compiles in (for clear_stale_cache)
JIT_SOURCES = tuple(m.__file__ or "" for m in (registry, params, domain, g2, kaon, miniboone, jit_module))
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
    """The coefficients of the kernel at one TheoryOptions (sources: the physics modules named beside each).

    Each branching ratio is coupling^2 x constant x shape of m_S. The field order defines the flat array the
    compiled code reads (:func:`flatten`, slots :data:`SLOT`); a tuple field takes as many slots as
    ``_WIDTHS`` gives it. (l0, l1) pairs are the Kallen function lambda(a, b, q2) = l0 + q2 (q2 - l1).
    """

    gbs2: float  # |g_bs|^2 at eta_t = 1 (couplings.g_bs)
    pref_s: float  # penguin prefactor of g_sd (couplings)
    r_c: float  # m_c^2 / m_t^2
    lt_re: float  # lambda_t of s -> d (couplings.lambda_t_sd)
    lt_im: float
    lc_re: float  # lambda_c of s -> d
    lc_im: float
    four_me2: float  # 4 m_e^2, 4 m_mu^2 (decays.s_widths thresholds)
    four_mmu2: float
    y_e2: float  # (m_e / v)^2, (m_mu / v)^2, m_mu / v
    y_mu2: float
    y_mu: float
    inv64pi: float
    inv8pi: float
    bk_l0: float  # B+ -> K+ S (bmeson.br_B_to_K_S): Kallen pair and rate constant
    bk_l1: float
    bk_k: float
    kst0_l0: float  # B0 -> K*0 S (bmeson.br_B_to_Kstar_S)
    kst0_l1: float
    kst0_k: float
    kstp_l0: float  # B+ -> K*+ S
    kstp_l1: float
    kstp_k: float
    kp_l0: float  # K+ -> pi+ S (kaon)
    kp_l1: float
    kp_k: float
    kl_l0: float  # K_L -> pi0 S (K_S has the same masses)
    kl_l1: float
    kl_k: float
    ks_k: float
    kl_mode: float  # options.kl_convention: 0 re, 1 im, 2 abs
    f0_BK_0: float  # f0 of B -> K (bmeson.f0_BK)
    inv_mfit: float
    z_tp: float  # z expansion of A0 of B -> K* (bmeson.A0_BKst)
    z_b: float
    z0: float
    a0: float
    a1: float
    inv_mR2: float
    bs_amp: float  # Bs -> gamma gamma, mu mu (bmeson)
    m_Bs2: float
    m_K02: float
    bs_gg: float
    bs_mm: float
    dm_bs: float  # mixing.delta_m_bs, delta_m_k at unit coupling, times the propagator's numerator
    dm_k: float
    g2_log: float  # g2.delta_a_lepton for the muon
    g2_yuk: float
    lambda2: float
    m_mu2: float
    hbar_c_mm: float  # decays.ctau_S, tau_S
    hbar_ps: float
    gp_m: float  # nucleon._g_SN for the proton: m_p / v, f_Tu, f_Td, f_Ts, (2/27) f_TG
    gp_fu: float
    gp_fd: float
    gp_fs: float
    gp_h: float
    gn_m: float  # the same for the neutron
    gn_fu: float
    gn_fd: float
    gn_fs: float
    gn_h: float
    inv_r_norm: float  # miniboone.r_miniboone normalisation (calibrated or absolute)
    inv_charm: float  # miniboone.r_charm2 Z' prefactor
    kstee_lo: float  # registry.KSTEE_WINDOW
    kstee_hi: float
    kmunu_cut: float  # registry.KMUNUEE_MEE_MIN
    cheb_lo: float  # kaon.KMUNUS_CHEB_RANGE
    cheb_hi: float
    unit: tuple[float, ...]  # params.PAPER_UNIT_FACTORS in PARAM_NAMES order
    cheb: tuple[float, ...]  # kaon.kmunus_chebyshev coefficients


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


def _kallen_q2(a: float, b: float) -> tuple[float, float]:
    """lambda(a, b, q2) = l0 + q2 (q2 - l1): returns (l0, l1) for fixed a, b [GeV^2]."""
    return a * a + b * b - 2.0 * a * b, 2.0 * (a + b)


def kernel_constants(options: TheoryOptions) -> KernelConstants:
    """The kernel's coefficients at ``options``, from the constants and physics modules (sources there).
    Raises miniboone.UntabulatedOptionError where the shipped tables do not cover the options."""
    c, pi = CONST, np.pi
    lt, lc = couplings.lambda_t_sd(), couplings.lambda_c_sd()
    y_e, y_mu = c.m_e / c.v, c.m_mu / c.v
    me_bk = (c.m_Bp**2 - c.m_Kp**2) / (c.m_b - c.m_s)
    bk = (*_kallen_q2(c.m_Bp**2, c.m_Kp**2), me_bk**2 / (64 * pi * c.m_Bp**3) * c.tau_Bp / c.hbar)
    kst0, kstp = [(*_kallen_q2(c[mb] ** 2, c[mv] ** 2),
                   c[tau] / c.hbar / (64 * pi * c[mb] ** 3 * (c.m_b + c.m_s) ** 2))
                  for mb, mv, tau in (("m_B0", "m_Kst0", "tau_B0"), ("m_Bp", "m_Kstp", "tau_Bp"))]
    t_plus, t_minus = (c.m_B0 + c.m_Kst0) ** 2, (c.m_B0 - c.m_Kst0) ** 2
    kp, kl, ks = [(*_kallen_q2(m_K**2, m_pi**2),
                   ((m_K**2 - m_pi**2) / (c.m_s - c.m_d)) ** 2 * c.f0_Kpi**2 / (64 * pi * m_K**3) * tau / c.hbar)
                  for m_K, m_pi, tau in ((c.m_Kp, c.m_pip, c.tau_Kp), (c.m_K0, c.m_pi0, c.tau_KL),
                                         (c.m_K0, c.m_pi0, c.tau_KS))]
    gp, gn = [(m / c.v, fu, fd, options.fTs, (2.0 / 27.0) * (1.0 - fu - fd - options.fTs))
              for m, fu, fd in ((c.m_p, options.fTu_p, options.fTd_p), (c.m_n, options.fTu_n, options.fTd_n))]
    miniboone.fast_table_names(options)  # raises UntabulatedOptionError where no table is shipped
    r_norm = miniboone.zp_denominator(options)
    if options.r_normalisation == "calibrated":
        r_norm *= miniboone.calibration_factor(options)
    cheb_lo, cheb_hi, cheb = kaon.kmunus_chebyshev()
    return KernelConstants(
        gbs2=float(abs(complex(couplings.g_bs(1.0)[()])) ** 2), pref_s=couplings._penguin_prefactor(c.m_s),
        r_c=c.m_c**2 / c.m_t**2, lt_re=lt.real, lt_im=lt.imag, lc_re=lc.real, lc_im=lc.imag,
        four_me2=4.0 * c.m_e**2, four_mmu2=4.0 * c.m_mu**2, y_e2=y_e**2, y_mu2=y_mu**2, y_mu=y_mu,
        inv64pi=1.0 / (64.0 * pi), inv8pi=1.0 / (8.0 * pi),
        bk_l0=bk[0], bk_l1=bk[1], bk_k=bk[2], kst0_l0=kst0[0], kst0_l1=kst0[1], kst0_k=kst0[2],
        kstp_l0=kstp[0], kstp_l1=kstp[1], kstp_k=kstp[2], kp_l0=kp[0], kp_l1=kp[1], kp_k=kp[2],
        kl_l0=kl[0], kl_l1=kl[1], kl_k=kl[2], ks_k=ks[2], kl_mode=_KL_MODES[options.kl_convention],
        f0_BK_0=c.f0_BK_0, inv_mfit=1.0 / c.f0_BK_mfit, z_tp=t_plus,
        z_b=float(np.sqrt(t_plus - t_plus * (1.0 - np.sqrt(1.0 - t_minus / t_plus)))),
        z0=float(bmeson.z_BKst(0.0)), a0=c.A0_BKst_a0, a1=c.A0_BKst_a1, inv_mR2=1.0 / c.A0_BKst_mR**2,
        bs_amp=c.f_Bs**2 * c.m_Bs**4 / (4.0 * (c.m_b + c.m_s) ** 2), m_Bs2=c.m_Bs**2, m_K02=c.m_K0**2,
        bs_gg=c.m_Bs**3 / (64.0 * pi) * c.tau_Bs / c.hbar,
        bs_mm=c.m_Bs * np.sqrt(1.0 - 4.0 * c.m_mu**2 / c.m_Bs**2) ** 3 / (8.0 * pi) * c.tau_Bs / c.hbar,
        dm_bs=float(mixing._delta_m(1.0, 0.0, c.m_Bs, c.f_Bs, c.B2_Bs, c.m_b + c.m_s) * (c.m_Bs**2)
                    / mixing._HBAR_GEV_PS),
        dm_k=float(mixing._delta_m(1.0, 0.0, c.m_K0, c.f_K, c.B2_K, c.m_s + c.m_d) * c.m_K0**2 / c.hbar),
        g2_log=c.m_mu / (8.0 * pi**2), g2_yuk=1.0 / (8.0 * pi**2), lambda2=c.Lambda**2, m_mu2=c.m_mu**2,
        hbar_c_mm=c.hbar_c * 1e3, hbar_ps=c.hbar * 1e12,
        gp_m=gp[0], gp_fu=gp[1], gp_fd=gp[2], gp_fs=gp[3], gp_h=gp[4],
        gn_m=gn[0], gn_fu=gn[1], gn_fd=gn[2], gn_fs=gn[3], gn_h=gn[4],
        inv_r_norm=1.0 / r_norm, inv_charm=1.0 / miniboone._zp_prefactor(options, options.charm_U),
        kstee_lo=KSTEE_WINDOW[0], kstee_hi=KSTEE_WINDOW[1], kmunu_cut=KMUNUEE_MEE_MIN,
        cheb_lo=cheb_lo, cheb_hi=cheb_hi, unit=tuple(PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES), cheb=cheb)


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
def _sqrtpos(x: float) -> float:
    return math.sqrt(x) if x > 0.0 else 0.0


_M_S_LO, _M_S_HI = M_S_BOUNDS
_M_4_LO, _M_4_HI = M_NU4_BOUNDS
_U_LO, _U_HI = U_MU4_RANGE


@jit
def in_domain(v: FloatArray) -> bool:
    """physics.domain.in_domain on one point, an array of 8 (GeV units)."""
    for i in range(v.size):
        if not math.isfinite(v[i]):
            return False
    g_D, U, m_S, m_4 = v[4], v[5], v[6], v[7]
    return bool(m_S < m_4 and _M_S_LO <= m_S <= _M_S_HI and _M_4_LO <= m_4 <= _M_4_HI and g_D >= 0.0
                and _U_LO <= U <= _U_HI)


@jit
def evaluate(v: FloatArray, c: FloatArray, t2: FloatArray, x2: FloatArray, y2: FloatArray, t1: FloatArray,
             x1: FloatArray, out: FloatArray) -> None:
    """NP parts of every KERNEL_NAMES observable at v = (kappa, ..., m_nu4) in GeV units, written to out.
    Assumes v is inside the domain (:func:`in_domain`)."""
    kappa, eta_d, eta_c, eta_t, g_D, U, m_S, m_4 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
    q2 = m_S * m_S
    gbs2 = c[SLOT.gbs2] * (eta_t * eta_t)
    ecr = eta_c * c[SLOT.r_c]
    re = c[SLOT.pref_s] * (eta_t * c[SLOT.lt_re] + ecr * c[SLOT.lc_re])
    im = c[SLOT.pref_s] * (eta_t * c[SLOT.lt_im] + ecr * c[SLOT.lc_im])
    re2, im2 = re * re, im * im
    gsd2 = re2 + im2
    # S widths and branching ratios
    ye2 = eta_d * eta_d
    gg = kappa * kappa * (m_S * q2) * c[SLOT.inv64pi]
    s = _sqrtpos(1.0 - c[SLOT.four_me2] / q2)
    ee = ye2 * c[SLOT.y_e2] * m_S * (s * s * s) * c[SLOT.inv8pi]
    s = _sqrtpos(1.0 - c[SLOT.four_mmu2] / q2)
    mumu = ye2 * c[SLOT.y_mu2] * m_S * (s * s * s) * c[SLOT.inv8pi]
    U2 = U * U
    nunu = g_D * g_D * (U2 * U2) * m_S * c[SLOT.inv8pi]
    tot = gg + ee + mumu + nunu
    # width / total as decays.SWidths._br does (a reciprocal overflows when tot is subnormal)
    pos = tot > 0.0
    br_gg, br_ee, br_nunu = (gg / tot, ee / tot, nunu / tot) if pos else (0.0, 0.0, 0.0)
    # two-body B and K decays to S
    f0 = c[SLOT.f0_BK_0] / (1.0 - q2 * c[SLOT.inv_mfit])
    bks = gbs2 * c[SLOT.bk_k] * (f0 * f0) * _sqrtpos(c[SLOT.bk_l0] + q2 * (q2 - c[SLOT.bk_l1]))
    a = math.sqrt(c[SLOT.z_tp] - q2)
    A0 = (c[SLOT.a0] + c[SLOT.a1] * ((a - c[SLOT.z_b]) / (a + c[SLOT.z_b]) - c[SLOT.z0])) / (1.0 - q2 * c[SLOT.inv_mR2])
    gA = gbs2 * (A0 * A0)
    s = _sqrtpos(c[SLOT.kst0_l0] + q2 * (q2 - c[SLOT.kst0_l1]))
    kst0 = gA * c[SLOT.kst0_k] * (s * s * s)
    s = _sqrtpos(c[SLOT.kstp_l0] + q2 * (q2 - c[SLOT.kstp_l1]))
    kstp = gA * c[SLOT.kstp_k] * (s * s * s)
    kp = gsd2 * c[SLOT.kp_k] * _sqrtpos(c[SLOT.kp_l0] + q2 * (q2 - c[SLOT.kp_l1]))
    s = _sqrtpos(c[SLOT.kl_l0] + q2 * (q2 - c[SLOT.kl_l1]))
    mode = c[SLOT.kl_mode]
    kl = (re2 if mode == 0.0 else im2 if mode == 1.0 else gsd2) * c[SLOT.kl_k] * s
    ks = im2 * c[SLOT.ks_k] * s
    amp2 = gbs2 * c[SLOT.bs_amp] / ((c[SLOT.m_Bs2] - q2) * (c[SLOT.m_Bs2] - q2))
    out[0], out[1], out[2] = bks, kst0, kstp
    out[3], out[4], out[5] = bks * br_nunu, kst0 * br_nunu, kstp * br_nunu
    out[6] = kst0 * br_ee * (1.0 if c[SLOT.kstee_lo] <= m_S <= c[SLOT.kstee_hi] else 0.0)
    out[7] = amp2 * (kappa * kappa) * c[SLOT.bs_gg]
    out[8] = amp2 * (ye2 * c[SLOT.y_mu2]) * c[SLOT.bs_mm]
    out[9], out[10], out[11] = kp, kl, ks
    out[12], out[13], out[14], out[15] = kp * br_nunu, kl * br_nunu, kl * br_ee, kl * br_gg
    out[16], out[17] = ks * br_gg, kp * br_gg
    out[18] = gbs2 * c[SLOT.dm_bs] / abs(c[SLOT.m_Bs2] - q2)
    out[19] = gsd2 * c[SLOT.dm_k] / abs(c[SLOT.m_K02] - q2)
    out[20], out[21], out[22], out[23] = tot, br_gg, br_ee, br_nunu
    out[24] = c[SLOT.hbar_c_mm] / tot if tot > 0.0 else np.inf
    out[25] = c[SLOT.hbar_ps] / tot if tot > 0.0 else np.inf
    # nucleon couplings in the operation order of nucleon._g_SN
    hq = eta_c + eta_d + eta_t
    g_Sp = c[SLOT.gp_m] * (0.0 * c[SLOT.gp_fu] + eta_d * c[SLOT.gp_fd] + eta_d * c[SLOT.gp_fs]
                           + c[SLOT.gp_h] * hq)
    g_Sn = c[SLOT.gn_m] * (0.0 * c[SLOT.gn_fu] + eta_d * c[SLOT.gn_fd] + eta_d * c[SLOT.gn_fs]
                           + c[SLOT.gn_h] * hq)
    out[26], out[27] = g_Sp, g_Sn
    # K+ -> mu+ nu S (S -> ee) above the m_ee cut: Clenshaw sum of the Chebyshev form (kaon.py)
    kmunu = 0.0
    if m_S >= c[SLOT.kmunu_cut]:
        tc = 2.0 * (2.0 * m_S - (c[SLOT.cheb_lo] + c[SLOT.cheb_hi])) / (c[SLOT.cheb_hi] - c[SLOT.cheb_lo])
        kmunu = eta_d * eta_d * kaon.chebyshev_sum(c[SLOT.cheb:SLOT.cheb + _N_CHEB], tc) * br_ee
    out[28] = kmunu
    y = eta_d * c[SLOT.y_mu]
    out[29] = kappa * y * c[SLOT.g2_log] * math.log(c[SLOT.lambda2] / q2) \
        + y * y * c[SLOT.g2_yuk] * g2.yukawa_closed_form(q2 / c[SLOT.m_mu2])
    # scattering tables: bicubic pieces in (ln m_S, m_nu4), clamped to the knot range as FITPACK does
    k = np.empty(7)  # ln K_C, K_p, K_n, S_Si, S_O, then ln sigma_Z' of Si, O
    miniboone.ln_pieces_2d(t2, x2, y2, math.log(m_S), m_4, k)
    miniboone.ln_pieces_1d(t1, x1, m_4, k[5:])
    for j in range(7):
        k[j] = math.exp(k[j])
    ge = g_D * U * (1.0 - U2)
    vis = ((gg + ee + mumu) / tot if pos else 0.0) * (ge * ge)
    g_C, g_Si, g_O = 6 * g_Sp + 6 * g_Sn, 14 * g_Sp + 14 * g_Sn, 8 * g_Sp + 8 * g_Sn
    out[30] = vis * (g_C * g_C * k[0] + 8 * (g_Sp * g_Sp) * k[1] + 6 * (g_Sn * g_Sn) * k[2]) * c[SLOT.inv_r_norm]
    out[31] = vis * (g_Si * g_Si * k[3] + 2 * (g_O * g_O) * k[4]) * c[SLOT.inv_charm] / (k[5] + 2 * k[6])
    for j in range(v.size):
        out[_O_PARAMS + j] = v[j] / c[SLOT.unit + j]
