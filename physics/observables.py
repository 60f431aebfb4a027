"""The flavour, width, coupling and g-2 observables of the model, composed once for arrays and for the kernel.

:func:`flavour` computes every observable of :data:`FLAVOUR_NAMES` from the eight parameters, from the
``physics.jit.shared`` formulas of the physics modules (sources there). It is itself a shared formula:
``physics.predict`` calls it on numpy arrays (through physics.registry), and the compiled kernel
(physics.kernel) calls it on one point, so the two paths compose the same functions in the same order. What the
TheoryOptions decide is one :class:`KernelConstants` record, flattened into the float array both read
(:func:`flatten`, slots :data:`SLOT`). The two inputs that differ between the paths are passed in: B(K+ -> mu+ nu
S) / eta_d^2 (the 32-node quadrature of physics.kaon for arrays, its Chebyshev form in the kernel) and the
Yukawa loop integral's form (physics.g2.yukawa_loop_integral, closed form when compiled).

Measurement windows in m_S that the observables' names carry are here too (:data:`KSTEE_WINDOW`,
:data:`KMUNUEE_MEE_MIN`). Inputs in GeV units (kappa in GeV^-1).
"""

from __future__ import annotations

import collections
import functools
import itertools
from typing import Any, NamedTuple

import numpy as np

from physics import bmeson, couplings, decays, g2, kaon, miniboone, mixing, nucleon
from physics.constants import VALUES
from physics.jit import ratio, shared
from physics.options import TheoryOptions
from physics.params import PAPER_UNIT_FACTORS, PARAM_NAMES, FloatArray

#: Window of the LHCb B0 -> K*0 e+e- measurement in the dilepton mass (arXiv:1304.3035), GeV
KSTEE_WINDOW = (0.03, 1.0)
#: K+ -> mu+ nu e+e- measured for m_ee >= 140 MeV (NA48/2, paper ref. [32]), GeV
KMUNUEE_MEE_MIN = 0.140

#: what :func:`flavour` writes, in order (it returns B(S -> visible), the MiniBooNE signal fraction)
FLAVOUR_NAMES: tuple[str, ...] = (
    "BR(B+->K+S)", "BR(B0->K*0S)", "BR(B+->K*+S)", "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)",
    "BR(B0->K*0ee)[0.03,1]", "BR(Bs->gammagamma)", "BR(Bs->mumu)", "BR(K+->pi+S)", "BR(KL->pi0S)",
    "BR(KS->pi0S)", "BR(K+->pi+nunu)", "BR(KL->pi0nunu)", "BR(KL->pi0ee)", "BR(KL->pi0gammagamma)",
    "BR(KS->pi0gammagamma)", "BR(K+->pi+gammagamma)", "DeltaM_Bs", "DeltaM_K", "Gamma_S", "BR(S->gammagamma)",
    "BR(S->ee)", "BR(S->nunu)", "ctau_S", "tau_S", "g_Sp", "g_Sn", "BR(K+->mu+nuee)[mee>140]", "Delta_a_mu")
N_CHEB = 13  # coefficients of the Chebyshev form of K+ -> mu+ nu S (kaon.kmunus_chebyshev)
_KL_MODES = {"re": 0.0, "im": 1.0, "abs": 2.0}


@shared
def in_window(x: FloatArray, lo: float, hi: float) -> FloatArray:
    """1.0 where lo <= x <= hi, else 0.0 (a measurement's window in m_S; floats or arrays)."""
    return ((x >= lo) & (x <= hi)) * 1.0  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------ constants
class KernelConstants(NamedTuple):
    """What the observables read at one TheoryOptions besides the compiled-in physical constants (VALUES).

    The couplings are linear in the eta's (physics.couplings), so they are taken at unit eta:
    |g_bs|^2 = gbs2 eta_t^2 and g_sd = eta_t g_sd(1, 0) + eta_c g_sd(0, 1). The field order defines the flat array
    (:func:`flatten`, slots :data:`SLOT`); a tuple field takes as many slots as ``_WIDTHS`` gives it.
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


_WIDTHS = {"unit": len(PARAM_NAMES), "cheb": N_CHEB}
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


def kernel_constants(options: TheoryOptions, scattering: bool = True) -> KernelConstants:
    """The options-dependent inputs, from the physics modules (sources there). With ``scattering`` False the two
    denominators of R are left NaN (for :func:`flavour` alone, at options whose tables are not shipped); else
    raises miniboone.UntabulatedOptionError where the shipped tables do not cover the options."""
    g_bs1 = complex(np.asarray(couplings.g_bs(1.0))[()])
    g_t, g_c = (complex(np.asarray(couplings.g_sd(et, ec))[()]) for et, ec in ((1.0, 0.0), (0.0, 1.0)))
    r_den = charm_den = float("nan")
    if scattering:
        miniboone.fast_table_names(options)  # raises UntabulatedOptionError where no table is shipped
        r_den = miniboone.zp_denominator(options)
        if options.r_normalisation == "calibrated":
            r_den *= miniboone.calibration_factor(options)
        charm_den = miniboone._zp_prefactor(options, options.charm_U)
    cheb_lo, cheb_hi, cheb = kaon.kmunus_chebyshev()
    return KernelConstants(
        gbs2=abs(g_bs1) ** 2, gsd_t_re=g_t.real, gsd_t_im=g_t.imag, gsd_c_re=g_c.real, gsd_c_im=g_c.imag,
        kl_mode=_KL_MODES[options.kl_convention], fTu_p=options.fTu_p, fTd_p=options.fTd_p, fTu_n=options.fTu_n,
        fTd_n=options.fTd_n, fTs=options.fTs, r_denominator=r_den, charm_denominator=charm_den,
        cheb_lo=cheb_lo, cheb_hi=cheb_hi, unit=tuple(PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES), cheb=cheb)


@functools.cache
def flavour_constants(options: TheoryOptions) -> FloatArray:
    """The flat constants :func:`flavour` reads at ``options`` (cached; R's denominators left NaN)."""
    consts = flatten(kernel_constants(options, scattering=False))
    consts.flags.writeable = False
    return consts


# ------------------------------------------------------------------------------------------ the composition
_KSTEE_LO, _KSTEE_HI = KSTEE_WINDOW
_V = VALUES


@shared
def flavour(kappa: FloatArray, eta_d: FloatArray, eta_c: FloatArray, eta_t: FloatArray, g_D: FloatArray,
            U: FloatArray, m_S: FloatArray, c: FloatArray, kmunu_unit: FloatArray | float,
            out: FloatArray) -> FloatArray:
    """Every observable of :data:`FLAVOUR_NAMES` (new-physics parts, units of physics.registry) written to
    out[0], out[1], ... in that order, and B(S -> visible) returned, at parameters in GeV units (floats, with
    ``out`` a float array; or arrays of N points, with ``out`` of shape (len(FLAVOUR_NAMES), N)), from the flat
    constants ``c`` (:func:`flatten`) and kmunu_unit = B(K+ -> mu+ nu S) / eta_d^2 at m_S. (Writing into ``out``
    rather than returning a tuple keeps the compiled kernel free of a tuple copy.)

    Each branching ratio is coupling^2 x rate per unit coupling^2 (physics.bmeson, kaon, mixing); the S widths
    and branching ratios are physics.decays'; the nucleon couplings physics.nucleon's; Delta a_mu is
    physics.g2.delta_a_paper; the windows are those the names carry.
    """
    # couplings (linear in the eta's: physics.couplings at unit eta)
    gbs2 = c[SLOT.gbs2] * (eta_t * eta_t)
    re = eta_t * c[SLOT.gsd_t_re] + eta_c * c[SLOT.gsd_c_re]
    im = eta_t * c[SLOT.gsd_t_im] + eta_c * c[SLOT.gsd_c_im]
    re2, im2 = re * re, im * im
    gsd2 = re2 + im2
    # S widths and branching ratios
    gg = decays.width_gammagamma(kappa, m_S)
    ee = decays.width_leptons(eta_d, m_S, _V.m_e)
    mumu = decays.width_leptons(eta_d, m_S, _V.m_mu)
    nunu = decays.width_nunu(g_D, U, m_S)
    tot = gg + ee + mumu + nunu
    br_gg, br_ee, br_nunu = ratio(gg, tot, 0.0), ratio(ee, tot, 0.0), ratio(nunu, tot, 0.0)
    # two-body B and K decays to S
    bks = gbs2 * bmeson.rate_B_to_K_S(m_S, _V.m_Bp, _V.m_Kp, _V.tau_Bp)
    kst0 = gbs2 * bmeson.rate_B_to_Kstar_S(m_S, _V.m_B0, _V.m_Kst0, _V.tau_B0)
    kstp = gbs2 * bmeson.rate_B_to_Kstar_S(m_S, _V.m_Bp, _V.m_Kstp, _V.tau_Bp)
    kp = gsd2 * kaon.rate_K_to_pi_S(m_S, _V.m_Kp, _V.m_pip, _V.tau_Kp)
    mode = c[SLOT.kl_mode]
    kl_coupling = re2 if mode == 0.0 else im2 if mode == 1.0 else gsd2
    kl = kl_coupling * kaon.rate_K_to_pi_S(m_S, _V.m_K0, _V.m_pi0, _V.tau_KL)
    ks = im2 * kaon.rate_K_to_pi_S(m_S, _V.m_K0, _V.m_pi0, _V.tau_KS)
    # nucleon couplings
    g_Sp = nucleon.g_SN(_V.m_p, c[SLOT.fTu_p], c[SLOT.fTd_p], c[SLOT.fTs], eta_d, eta_c, eta_t)
    g_Sn = nucleon.g_SN(_V.m_n, c[SLOT.fTu_n], c[SLOT.fTd_n], c[SLOT.fTs], eta_d, eta_c, eta_t)
    kmunu = eta_d * eta_d * kmunu_unit * br_ee * in_window(m_S, KMUNUEE_MEE_MIN, np.inf)
    a_mu = g2.delta_a_paper(kappa, eta_d, m_S, _V.m_mu)
    out[0], out[1], out[2] = bks, kst0, kstp
    out[3], out[4], out[5] = bks * br_nunu, kst0 * br_nunu, kstp * br_nunu
    out[6] = kst0 * br_ee * in_window(m_S, _KSTEE_LO, _KSTEE_HI)
    out[7] = gbs2 * bmeson.rate_Bs_gammagamma_S(kappa, m_S)
    out[8] = gbs2 * bmeson.rate_Bs_mumu_S(eta_d * (_V.m_mu / _V.v), m_S)
    out[9], out[10], out[11], out[12], out[13] = kp, kl, ks, kp * br_nunu, kl * br_nunu
    out[14], out[15], out[16], out[17] = kl * br_ee, kl * br_gg, ks * br_gg, kp * br_gg
    out[18], out[19] = gbs2 * mixing.rate_delta_m_bs(m_S), gsd2 * mixing.rate_delta_m_k(m_S)
    out[20], out[21], out[22], out[23] = tot, br_gg, br_ee, br_nunu
    out[24], out[25] = decays.decay_length_mm(tot), decays.lifetime_ps(tot)
    out[26], out[27], out[28], out[29] = g_Sp, g_Sn, kmunu, a_mu
    return ratio(gg + ee + mumu, tot, 0.0)
