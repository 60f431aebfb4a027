"""Fused fast path of :func:`physics.registry.predict`: the observables a likelihood reads, in one pass.

The same formulas as the physics modules (sources there), each branching ratio written as
coupling^2 x constant x shape of m_S with the constants precomputed once; the kernel runs on Python floats
(one point, no numpy overhead) or on numpy arrays (a batch). ``predict`` stays the reference;
tests/physics/test_fast_paths.py holds the two to 1e-10 relative. Profiles: benchmarks/README.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from physics import bmeson, couplings, g2, kaon, miniboone, mixing
from physics.constants import CONST
from physics.options import TheoryOptions
from physics.params import PAPER_UNIT_FACTORS, PARAM_NAMES, FloatArray, ModelParams
from physics.registry import (
    EDGE_SLACK,
    KMUNUEE_MEE_MIN,
    KSTEE_WINDOW,
    M_NU4_RANGE,
    M_S_RANGE,
    REGISTRY,
    Prediction,
)


class _FloatOps:
    sqrt, log = math.sqrt, math.log

    @staticmethod
    def sqrtpos(x: float) -> float:
        return math.sqrt(x) if x > 0.0 else 0.0

    @staticmethod
    def beta3(x: float) -> float:
        return math.sqrt(x) ** 3 if x > 0.0 else 0.0

    @staticmethod
    def window(x: float, lo: float, hi: float) -> float:
        return 1.0 if lo <= x <= hi else 0.0

    @staticmethod
    def div0(a: float, b: float, fill: float = 0.0) -> float:
        return a / b if b > 0.0 else fill

    @staticmethod
    def kmunu(eta_d: float, m_S: float, br_ee: float, cut: float) -> float:
        return kaon.br_K_to_munu_S_point(eta_d, m_S) * br_ee if m_S >= cut else 0.0

    yukawa = staticmethod(g2.yukawa_loop_integral_point)

    @staticmethod
    def tables(p2: miniboone.SplinePieces, p1: miniboone.CubicPieces, x: float, y: float) -> list[float]:
        return [math.exp(t) for t in (*p2.ln_values_point(x, y), *p1.ln_values_point(y))]


class _ArrayOps:
    sqrt, log = np.sqrt, np.log

    @staticmethod
    def sqrtpos(x: FloatArray) -> FloatArray:
        return np.sqrt(np.maximum(x, 0.0))

    @staticmethod
    def beta3(x: FloatArray) -> FloatArray:
        s = np.sqrt(np.maximum(x, 0.0))
        return s * s * s

    @staticmethod
    def window(x: FloatArray, lo: float, hi: float) -> FloatArray:
        return ((x >= lo) & (x <= hi)).astype(float)

    @staticmethod
    def div0(a: FloatArray, b: FloatArray, fill: float = 0.0) -> FloatArray:
        return np.divide(a, b, out=np.full_like(b, fill), where=b > 0.0)

    @staticmethod
    def kmunu(eta_d: FloatArray, m_S: FloatArray, br_ee: FloatArray, cut: float) -> FloatArray:
        out = np.zeros_like(m_S)
        sel = m_S >= cut
        if sel.any():
            out[sel] = kaon.br_K_to_munu_S_fast(eta_d[sel], m_S[sel]) * br_ee[sel]
        return out

    yukawa = staticmethod(g2.yukawa_loop_integral)

    @staticmethod
    def tables(p2: miniboone.SplinePieces, p1: miniboone.CubicPieces, x: FloatArray, y: FloatArray) -> FloatArray:
        return np.asarray(np.exp(np.concatenate([p2.ln_values(x, y), p1.ln_values(y)], axis=1)).T)


def _kallen_q2(a: float, b: float) -> tuple[float, float]:
    """lambda(a, b, q2) = l0 + q2 (q2 - l1): returns (l0, l1) for fixed a, b [GeV^2]."""
    return a * a + b * b - 2.0 * a * b, 2.0 * (a + b)


class _Fused:
    """Precomputed coefficients of the fused kernel at one TheoryOptions (see physics modules for sources)."""

    SUPPORTED = frozenset(set(REGISTRY) - {
        "BR(Bs->nunu)", "BR(Bs->nuDnuD)", "BR(Bs->invisible)", "Delta_a_e", "Gamma_nu4", "|g_bs|",
        "Re(g_sd)", "Im(g_sd)"} | set(PARAM_NAMES))

    def __init__(self, options: TheoryOptions):
        c, pi = CONST, np.pi
        self.options = options
        self.kl_mode = options.kl_convention
        self.gbs2 = float(abs(complex(couplings.g_bs(1.0)[()])) ** 2)
        self.pref_s = couplings._penguin_prefactor(c.m_s)
        self.r_c = c.m_c**2 / c.m_t**2
        lt, lc = couplings.lambda_t_sd(), couplings.lambda_c_sd()
        self.lt, self.lc = (lt.real, lt.imag), (lc.real, lc.imag)
        self.four_m2 = (4.0 * c.m_e**2, 4.0 * c.m_mu**2)
        self.y_e, self.y_mu = c.m_e / c.v, c.m_mu / c.v
        me_bk = (c.m_Bp**2 - c.m_Kp**2) / (c.m_b - c.m_s)
        self.bk = (*_kallen_q2(c.m_Bp**2, c.m_Kp**2), me_bk**2 / (64 * pi * c.m_Bp**3) * c.tau_Bp / c.hbar)
        kst = [(*_kallen_q2(c[mb] ** 2, c[mv] ** 2), c[tau] / c.hbar / (64 * pi * c[mb] ** 3 * (c.m_b + c.m_s) ** 2))
               for mb, mv, tau in (("m_B0", "m_Kst0", "tau_B0"), ("m_Bp", "m_Kstp", "tau_Bp"))]
        self.kst0, self.kstp = kst
        t_plus, t_minus = (c.m_B0 + c.m_Kst0) ** 2, (c.m_B0 - c.m_Kst0) ** 2
        self.z_tp, self.z_b = t_plus, float(np.sqrt(t_plus - t_plus * (1.0 - np.sqrt(1.0 - t_minus / t_plus))))
        self.z0 = float(bmeson.z_BKst(0.0))
        self.bs_amp = c.f_Bs**2 * c.m_Bs**4 / (4.0 * (c.m_b + c.m_s) ** 2)
        self.m_Bs2, self.m_K02 = c.m_Bs**2, c.m_K0**2
        self.bs_gg = c.m_Bs**3 / (64.0 * pi) * c.tau_Bs / c.hbar
        self.bs_mm = c.m_Bs * np.sqrt(1.0 - 4.0 * c.m_mu**2 / c.m_Bs**2) ** 3 / (8.0 * pi) * c.tau_Bs / c.hbar
        kpi = []
        for m_K, m_pi, tau in ((c.m_Kp, c.m_pip, c.tau_Kp), (c.m_K0, c.m_pi0, c.tau_KL), (c.m_K0, c.m_pi0, c.tau_KS)):
            me = (m_K**2 - m_pi**2) / (c.m_s - c.m_d)
            kpi.append((*_kallen_q2(m_K**2, m_pi**2), me**2 * c.f0_Kpi**2 / (64 * pi * m_K**3) * tau / c.hbar))
        self.kp, self.kl, self.ks = kpi
        self.dm_bs = mixing._delta_m(1.0, 0.0, c.m_Bs, c.f_Bs, c.B2_Bs, c.m_b + c.m_s) * (c.m_Bs**2) \
            / mixing._HBAR_GEV_PS
        self.dm_k = mixing._delta_m(1.0, 0.0, c.m_K0, c.f_K, c.B2_K, c.m_s + c.m_d) * c.m_K0**2 / c.hbar
        self.g2_log, self.g2_yuk = c.m_mu / (8.0 * pi**2), 1.0 / (8.0 * pi**2)
        self.lambda2, self.m_mu2 = c.Lambda**2, c.m_mu**2
        self.g_N = [(m / c.v, fu, fd, options.fTs, (2.0 / 27.0) * (1.0 - fu - fd - options.fTs))
                    for m, fu, fd in ((c.m_p, options.fTu_p, options.fTd_p), (c.m_n, options.fTu_n, options.fTd_n))]
        self.hbar_c_mm, self.hbar_ps = c.hbar_c * 1e3, c.hbar * 1e12
        self.unit = tuple(PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES)
        self.inv64pi, self.inv8pi = 1.0 / (64.0 * pi), 1.0 / (8.0 * pi)
        self.y_e2, self.y_mu2 = self.y_e**2, self.y_mu**2
        self.f0_BK_0, self.inv_mfit = c.f0_BK_0, 1.0 / c.f0_BK_mfit
        self.a0, self.a1, self.inv_mR2 = c.A0_BKst_a0, c.A0_BKst_a1, 1.0 / c.A0_BKst_mR**2
        tables = miniboone.fast_table_names(options)  # raises UntabulatedOptionError where none is shipped
        self.tables_ok = True
        self.pieces2, self.pieces1 = miniboone.SplinePieces(tables[0]), miniboone.CubicPieces(tables[1])
        r_norm = miniboone.zp_denominator(options)
        if options.r_normalisation == "calibrated":
            r_norm *= miniboone.calibration_factor(options)
        self.inv_r_norm = 1.0 / r_norm
        self.inv_charm = 1.0 / miniboone._zp_prefactor(options, options.charm_U)

    @classmethod
    def supports(cls, names: Iterable[str], options: TheoryOptions) -> bool:
        return (set(names) <= cls.SUPPORTED and not options.g2_two_loop_bz and not options.g2_kappa_finite)

    def values(self, v: tuple[Any, ...], names: tuple[str, ...], ops: Any) -> list[Any]:
        """NP parts of ``names`` at the point(s) v = (kappa, ..., m_nu4) in GeV units (floats or arrays)."""
        kappa, eta_d, eta_c, eta_t, g_D, U, m_S, m_4 = v
        sp = ops.sqrtpos
        q2 = m_S * m_S
        gbs2 = self.gbs2 * (eta_t * eta_t)
        ecr = eta_c * self.r_c  # g_sd in the operation order of couplings.g_sd (Re g_sd may cancel)
        re = self.pref_s * (eta_t * self.lt[0] + ecr * self.lc[0])
        im = self.pref_s * (eta_t * self.lt[1] + ecr * self.lc[1])
        re2, im2 = re * re, im * im
        gsd2 = re2 + im2
        # S widths and branching ratios (decays.s_widths)
        ye2 = eta_d * eta_d
        gg = kappa * kappa * (m_S * q2) * self.inv64pi
        ee = ye2 * self.y_e2 * m_S * ops.beta3(1.0 - self.four_m2[0] / q2) * self.inv8pi
        mumu = ye2 * self.y_mu2 * m_S * ops.beta3(1.0 - self.four_m2[1] / q2) * self.inv8pi
        U2 = U * U
        nunu = g_D * g_D * (U2 * U2) * m_S * self.inv8pi
        tot = gg + ee + mumu + nunu
        # width / total as decays.SWidths._br does (a reciprocal overflows when tot is subnormal)
        br_gg, br_ee, br_nunu = ops.div0(gg, tot), ops.div0(ee, tot), ops.div0(nunu, tot)
        # two-body B and K decays to S (bmeson, kaon)
        l0, l1, k = self.bk
        f0 = self.f0_BK_0 / (1.0 - q2 * self.inv_mfit)
        bks = gbs2 * k * (f0 * f0) * sp(l0 + q2 * (q2 - l1))
        a = ops.sqrt(self.z_tp - q2)
        A0 = (self.a0 + self.a1 * ((a - self.z_b) / (a + self.z_b) - self.z0)) / (1.0 - q2 * self.inv_mR2)
        gA = gbs2 * (A0 * A0)
        l0, l1, k = self.kst0
        s = sp(l0 + q2 * (q2 - l1))
        kst0 = gA * k * (s * s * s)
        l0, l1, k = self.kstp
        s = sp(l0 + q2 * (q2 - l1))
        kstp = gA * k * (s * s * s)
        l0, l1, k = self.kp
        kp = gsd2 * k * sp(l0 + q2 * (q2 - l1))
        l0, l1, k = self.kl
        s = sp(l0 + q2 * (q2 - l1))
        kl = (re2 if self.kl_mode == "re" else im2 if self.kl_mode == "im" else gsd2) * k * s
        ks = im2 * self.ks[2] * s  # same masses as K_L
        amp2 = gbs2 * self.bs_amp / ((self.m_Bs2 - q2) * (self.m_Bs2 - q2))
        out: dict[str, Any] = {
            "BR(B+->K+S)": bks, "BR(B0->K*0S)": kst0, "BR(B+->K*+S)": kstp, "BR(B+->K+nunu)": bks * br_nunu,
            "BR(B0->K*0nunu)": kst0 * br_nunu, "BR(B+->K*+nunu)": kstp * br_nunu,
            "BR(B0->K*0ee)[0.03,1]": kst0 * br_ee * ops.window(m_S, *KSTEE_WINDOW),
            "BR(Bs->gammagamma)": amp2 * (kappa * kappa) * self.bs_gg,
            "BR(Bs->mumu)": amp2 * (ye2 * self.y_mu2) * self.bs_mm,
            "BR(K+->pi+S)": kp, "BR(KL->pi0S)": kl, "BR(KS->pi0S)": ks, "BR(K+->pi+nunu)": kp * br_nunu,
            "BR(KL->pi0nunu)": kl * br_nunu, "BR(KL->pi0ee)": kl * br_ee, "BR(KL->pi0gammagamma)": kl * br_gg,
            "BR(KS->pi0gammagamma)": ks * br_gg, "BR(K+->pi+gammagamma)": kp * br_gg,
            "DeltaM_Bs": gbs2 * self.dm_bs / abs(self.m_Bs2 - q2),
            "DeltaM_K": gsd2 * self.dm_k / abs(self.m_K02 - q2),
            "Gamma_S": tot, "BR(S->gammagamma)": br_gg, "BR(S->ee)": br_ee, "BR(S->nunu)": br_nunu,
            "ctau_S": ops.div0(self.hbar_c_mm, tot, np.inf), "tau_S": ops.div0(self.hbar_ps, tot, np.inf)}
        # nucleon couplings in the operation order of nucleon._g_SN (g_Sp, g_Sn and g_SA may cancel)
        g_Sp, g_Sn = (m_v * (0.0 * fu + eta_d * fd + eta_d * fs + h * (eta_c + eta_d + eta_t))
                      for m_v, fu, fd, fs, h in self.g_N)
        out["g_Sp"], out["g_Sn"] = g_Sp, g_Sn
        for n, x, f in zip(PARAM_NAMES, v, self.unit, strict=True):
            out[n] = x / f
        if "BR(K+->mu+nuee)[mee>140]" in names:
            out["BR(K+->mu+nuee)[mee>140]"] = ops.kmunu(eta_d, m_S, br_ee, KMUNUEE_MEE_MIN)
        if "Delta_a_mu" in names:
            y = eta_d * self.y_mu
            out["Delta_a_mu"] = kappa * y * self.g2_log * ops.log(self.lambda2 / q2) \
                + y * y * self.g2_yuk * ops.yukawa(q2 / self.m_mu2)
        if "R_MiniBooNE" in names or "R_CHARMII" in names:
            K_C, K_p, K_n, S_Si, S_O, Z_Si, Z_O = ops.tables(self.pieces2, self.pieces1, ops.log(m_S), m_4)
            ge = g_D * U * (1.0 - U2)
            vis = ops.div0(gg + ee + mumu, tot) * (ge * ge)
            g_C, g_Si, g_O = 6 * g_Sp + 6 * g_Sn, 14 * g_Sp + 14 * g_Sn, 8 * g_Sp + 8 * g_Sn
            out["R_MiniBooNE"] = vis * (g_C * g_C * K_C + 8 * (g_Sp * g_Sp) * K_p + 6 * (g_Sn * g_Sn) * K_n) \
                * self.inv_r_norm
            out["R_CHARMII"] = vis * (g_Si * g_Si * S_Si + 2 * (g_O * g_O) * S_O) * self.inv_charm / (Z_Si + 2 * Z_O)
        return [out[n] for n in names]


class FusedPredictor:
    """Fast path of :func:`predict` for fixed ``names`` and ``options``: NP parts only, no Prediction records.

    ``point`` takes one point as 8 Python floats (PARAM_NAMES order, GeV units) and returns floats;
    ``batch`` takes an (N, 8) array and returns arrays. Both assume points inside the model's domain
    (:func:`in_domain_point`, :func:`in_domain`). Build with :func:`fused_predictor`.
    """

    def __init__(self, names: Sequence[str], options: TheoryOptions):
        self.names = tuple(names)
        self.sm = tuple(REGISTRY[n].sm.value if REGISTRY[n].sm is not None else None  # type: ignore[union-attr]
                        for n in self.names)
        self._k = _Fused(options)

    def point(self, values: Sequence[float]) -> list[float]:
        return list(self._k.values(tuple(values), self.names, _FloatOps))

    def batch(self, theta: FloatArray) -> list[FloatArray]:
        cols = tuple(np.ascontiguousarray(theta[:, i]) for i in range(len(PARAM_NAMES)))
        with np.errstate(divide="ignore", invalid="ignore"):
            return [np.broadcast_to(np.asarray(x, dtype=float), (theta.shape[0],))
                    for x in self._k.values(cols, self.names, _ArrayOps)]

    def predict(self, params: ModelParams) -> dict[str, Prediction]:
        """The form of :func:`predict` (for tests and tools)."""
        out = {}
        for name, sm, x in zip(self.names, self.sm, self.batch(params.to_array()), strict=True):
            out[name] = Prediction(x, sm, x + sm if sm is not None else x)
        return out


@functools.cache
def fused_predictor(names: tuple[str, ...], options: TheoryOptions | None = None) -> FusedPredictor | None:
    """The cached :class:`FusedPredictor` of these observables and options, or None where the fused kernel
    does not cover them (then use :func:`predict`)."""
    opts = options if options is not None else TheoryOptions()
    if not _Fused.supports(names, opts):
        return None
    return FusedPredictor(names, opts)


_M_S_LO, _M_S_HI = M_S_RANGE[0] * (1 - EDGE_SLACK), M_S_RANGE[1] * (1 + EDGE_SLACK)
_M_4_LO, _M_4_HI = M_NU4_RANGE[0] * (1 - EDGE_SLACK), M_NU4_RANGE[1] * (1 + EDGE_SLACK)


def in_domain_point(values: Sequence[float]) -> bool:
    """:func:`in_domain` for one point given as 8 Python floats (PARAM_NAMES order, GeV units)."""
    if not all(map(math.isfinite, values)):
        return False
    _, _, _, _, g_D, U, m_S, m_4 = values
    return (m_S < m_4 and _M_S_LO <= m_S <= _M_S_HI and _M_4_LO <= m_4 <= _M_4_HI and g_D >= 0.0
            and 0.0 <= U <= 1.0)
