"""Compiled form of the fused kernel (physics.fused): one point in, every kernel observable out, in machine code.

The arithmetic is that of :meth:`physics.fused._Fused.values` line for line (same constants, same operation
order), written on flat float arrays so that numba compiles it (``cache=True``: compiled once per machine,
reused from ``__pycache__``). Without numba, or with ``DARKPORTAL_JIT=0`` in the environment, :data:`ENABLED`
is False and callers use the Python fused path instead. tests/physics/test_fast_paths.py holds this kernel to
``physics.predict`` at 1e-10 relative; benchmarks/README.md has the profile that motivated it.

Layout: ``consts`` is the flat array of :func:`pack_constants` (indices ``_C_*`` below), ``t2`` the bicubic
pieces of the five 2-D scattering tables (cells x tables x 16), ``x2``/``y2`` their cell edges in ln m_S and
m_nu4, ``t1`` the CHARM-II Z' cubics (4 x intervals x 2), ``x1`` their knots. Outputs are in KERNEL_NAMES
order.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from physics import kaon
from physics.params import PARAM_NAMES, FloatArray
from physics.registry import EDGE_SLACK, KMUNUEE_MEE_MIN, KSTEE_WINDOW, M_NU4_RANGE, M_S_RANGE


def _numba_njit() -> Callable[[Any], Any] | None:
    if os.environ.get("DARKPORTAL_JIT", "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; this keeps a broken install usable
        return None
    return numba.njit(cache=True, fastmath=False, error_model="numpy", nogil=True)


_NJIT = _numba_njit()
ENABLED = _NJIT is not None


def clear_stale_cache(module_file: str, depends_on: Sequence[str]) -> bool:
    """Delete the numba cache of ``module_file`` when it or a file it depends on changed since it was written.

    numba invalidates a cached function only when its own source file changes, not when a jitted function it
    calls from another file, or a module-level constant it reads from another file, changes; a stale cache
    would then run old code. Call this at import of every module with ``cache=True`` functions, naming the
    files whose code or constants they compile in. Returns True if a stale cache was removed.
    """
    cache = Path(module_file).parent / "__pycache__"
    stem = Path(module_file).stem
    digest = hashlib.sha256()
    for f in (module_file, *depends_on):
        digest.update(Path(f).read_bytes())
    try:
        import numba
        digest.update(numba.__version__.encode())
    except ImportError:  # pragma: no cover
        pass
    stamp = cache / f"{stem}.jit-sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return False
        stale = [p for p in cache.glob(f"{stem}.*") if p.suffix in (".nbi", ".nbc")]
        for p in stale:
            p.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
        tmp.write_text(digest.hexdigest())
        os.replace(tmp, stamp)
        return bool(stale)
    except OSError:  # a read-only install: numba then caches elsewhere, and the sources do not change there
        return False


if ENABLED:
    from physics import params, registry

    clear_stale_cache(__file__, [registry.__file__, params.__file__])


def jit[F: Callable[..., Any]](fn: F) -> F:
    """numba.njit(cache=True) where the kernel is enabled, else the plain Python function."""
    return _NJIT(fn) if _NJIT is not None else fn


# ------------------------------------------------------------------------------------------ outputs
KERNEL_NAMES: tuple[str, ...] = (
    "BR(B+->K+S)", "BR(B0->K*0S)", "BR(B+->K*+S)", "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)",
    "BR(B0->K*0ee)[0.03,1]", "BR(Bs->gammagamma)", "BR(Bs->mumu)", "BR(K+->pi+S)", "BR(KL->pi0S)",
    "BR(KS->pi0S)", "BR(K+->pi+nunu)", "BR(KL->pi0nunu)", "BR(KL->pi0ee)", "BR(KL->pi0gammagamma)",
    "BR(KS->pi0gammagamma)", "BR(K+->pi+gammagamma)", "DeltaM_Bs", "DeltaM_K", "Gamma_S", "BR(S->gammagamma)",
    "BR(S->ee)", "BR(S->nunu)", "ctau_S", "tau_S", "g_Sp", "g_Sn", "BR(K+->mu+nuee)[mee>140]", "Delta_a_mu",
    "R_MiniBooNE", "R_CHARMII", *PARAM_NAMES)
N_OUT = len(KERNEL_NAMES)
_O_PARAMS = N_OUT - len(PARAM_NAMES)

# ------------------------------------------------------------------------------------------ constants
_CONST_NAMES = (
    "gbs2", "pref_s", "r_c", "lt_re", "lt_im", "lc_re", "lc_im", "four_me2", "four_mmu2", "y_e2", "y_mu2",
    "y_mu", "inv64pi", "inv8pi", "bk_l0", "bk_l1", "bk_k", "kst0_l0", "kst0_l1", "kst0_k", "kstp_l0",
    "kstp_l1", "kstp_k", "kp_l0", "kp_l1", "kp_k", "kl_l0", "kl_l1", "kl_k", "ks_k", "kl_mode",
    "f0_BK_0", "inv_mfit", "z_tp", "z_b", "z0", "a0", "a1", "inv_mR2", "bs_amp", "m_Bs2", "m_K02", "bs_gg",
    "bs_mm", "dm_bs", "dm_k", "g2_log", "g2_yuk", "lambda2", "m_mu2", "hbar_c_mm", "hbar_ps",
    "gp_m", "gp_fu", "gp_fd", "gp_fs", "gp_h", "gn_m", "gn_fu", "gn_fd", "gn_fs", "gn_h",
    "inv_r_norm", "inv_charm", "kstee_lo", "kstee_hi", "kmunu_cut", "cheb_lo", "cheb_hi",
    *(f"unit_{n}" for n in PARAM_NAMES), *(f"cheb_{i}" for i in range(13)))
(_C_GBS2, _C_PREF_S, _C_R_C, _C_LT_RE, _C_LT_IM, _C_LC_RE, _C_LC_IM, _C_FOUR_ME2, _C_FOUR_MMU2, _C_Y_E2,
 _C_Y_MU2, _C_Y_MU, _C_INV64PI, _C_INV8PI, _C_BK_L0, _C_BK_L1, _C_BK_K, _C_KST0_L0, _C_KST0_L1, _C_KST0_K,
 _C_KSTP_L0, _C_KSTP_L1, _C_KSTP_K, _C_KP_L0, _C_KP_L1, _C_KP_K, _C_KL_L0, _C_KL_L1, _C_KL_K, _C_KS_K,
 _C_KL_MODE, _C_F0_BK_0, _C_INV_MFIT, _C_Z_TP, _C_Z_B, _C_Z0, _C_A0, _C_A1, _C_INV_MR2, _C_BS_AMP, _C_M_BS2,
 _C_M_K02, _C_BS_GG, _C_BS_MM, _C_DM_BS, _C_DM_K, _C_G2_LOG, _C_G2_YUK, _C_LAMBDA2, _C_M_MU2, _C_HBAR_C_MM,
 _C_HBAR_PS, _C_GP_M, _C_GP_FU, _C_GP_FD, _C_GP_FS, _C_GP_H, _C_GN_M, _C_GN_FU, _C_GN_FD, _C_GN_FS, _C_GN_H,
 _C_INV_R_NORM, _C_INV_CHARM, _C_KSTEE_LO, _C_KSTEE_HI, _C_KMUNU_CUT, _C_CHEB_LO, _C_CHEB_HI) = range(69)
_C_UNIT = 69
_C_CHEB = _C_UNIT + len(PARAM_NAMES)
_N_CHEB = 13
_KL_MODES = {"re": 0.0, "im": 1.0, "abs": 2.0}


@dataclass(frozen=True)
class KernelData:
    """The arrays the compiled kernel reads, for one TheoryOptions (see the module docstring)."""

    consts: FloatArray
    t2: FloatArray
    x2: FloatArray
    y2: FloatArray
    t1: FloatArray
    x1: FloatArray


def kernel_data(fused: Any) -> KernelData:
    """Pack the precomputed coefficients of a ``physics.fused._Fused`` (which must have its tables)."""
    f = fused
    lo, hi, cheb = kaon.kmunus_chebyshev()
    if len(cheb) != _N_CHEB:
        raise ValueError(f"kernel expects {_N_CHEB} Chebyshev coefficients of K+ -> mu+ nu S, got {len(cheb)}")
    (gp_m, gp_fu, gp_fd, gp_fs, gp_h), (gn_m, gn_fu, gn_fd, gn_fs, gn_h) = f.g_N
    values = {
        "gbs2": f.gbs2, "pref_s": f.pref_s, "r_c": f.r_c, "lt_re": f.lt[0], "lt_im": f.lt[1], "lc_re": f.lc[0],
        "lc_im": f.lc[1], "four_me2": f.four_m2[0], "four_mmu2": f.four_m2[1], "y_e2": f.y_e2, "y_mu2": f.y_mu2,
        "y_mu": f.y_mu, "inv64pi": f.inv64pi, "inv8pi": f.inv8pi,
        "bk_l0": f.bk[0], "bk_l1": f.bk[1], "bk_k": f.bk[2], "kst0_l0": f.kst0[0], "kst0_l1": f.kst0[1],
        "kst0_k": f.kst0[2], "kstp_l0": f.kstp[0], "kstp_l1": f.kstp[1], "kstp_k": f.kstp[2], "kp_l0": f.kp[0],
        "kp_l1": f.kp[1], "kp_k": f.kp[2], "kl_l0": f.kl[0], "kl_l1": f.kl[1], "kl_k": f.kl[2], "ks_k": f.ks[2],
        "kl_mode": _KL_MODES[f.kl_mode], "f0_BK_0": f.f0_BK_0, "inv_mfit": f.inv_mfit, "z_tp": f.z_tp,
        "z_b": f.z_b, "z0": f.z0, "a0": f.a0, "a1": f.a1, "inv_mR2": f.inv_mR2, "bs_amp": f.bs_amp,
        "m_Bs2": f.m_Bs2, "m_K02": f.m_K02, "bs_gg": f.bs_gg, "bs_mm": f.bs_mm, "dm_bs": f.dm_bs, "dm_k": f.dm_k,
        "g2_log": f.g2_log, "g2_yuk": f.g2_yuk, "lambda2": f.lambda2, "m_mu2": f.m_mu2,
        "hbar_c_mm": f.hbar_c_mm, "hbar_ps": f.hbar_ps,
        "gp_m": gp_m, "gp_fu": gp_fu, "gp_fd": gp_fd, "gp_fs": gp_fs, "gp_h": gp_h,
        "gn_m": gn_m, "gn_fu": gn_fu, "gn_fd": gn_fd, "gn_fs": gn_fs, "gn_h": gn_h,
        "inv_r_norm": f.inv_r_norm, "inv_charm": f.inv_charm, "kstee_lo": KSTEE_WINDOW[0],
        "kstee_hi": KSTEE_WINDOW[1], "kmunu_cut": KMUNUEE_MEE_MIN, "cheb_lo": lo, "cheb_hi": hi,
        **{f"unit_{n}": u for n, u in zip(PARAM_NAMES, f.unit, strict=True)},
        **{f"cheb_{i}": c for i, c in enumerate(cheb)}}
    consts = np.array([float(values[n]) for n in _CONST_NAMES])
    p2, p1 = f.pieces2, f.pieces1
    return KernelData(consts, np.ascontiguousarray(p2.coef, dtype=float), np.asarray(p2.x_edges, dtype=float),
                      np.asarray(p2.y_edges, dtype=float), np.ascontiguousarray(p1.coef, dtype=float),
                      np.asarray(p1.x, dtype=float))


# ------------------------------------------------------------------------------------------ the kernel
@jit
def _sqrtpos(x: float) -> float:
    return math.sqrt(x) if x > 0.0 else 0.0


@jit
def _cell(edges: FloatArray, x: float) -> int:
    """Index i of the cell edges[i] <= x < edges[i+1], clamped to [0, len - 2] (bisect_right - 1)."""
    lo, hi = 0, edges.size
    while lo < hi:
        mid = (lo + hi) // 2
        if x < edges[mid]:
            hi = mid
        else:
            lo = mid + 1
    return min(max(lo - 1, 0), edges.size - 2)


@jit
def _yukawa(r: float) -> float:
    """g2.yukawa_loop_integral_point for 0 < r < 4 (the model's domain has r < 2.1)."""
    s = math.sqrt(4.0 * r - r * r)
    j = 2.0 / s * (math.atan((2.0 - r) / s) + math.atan(r / s))
    return 1.5 - r + (r * (3.0 - r) / 2.0) * (-math.log(r)) + (-r * (r - 1.0) * (r - 4.0) / 2.0) * j


_M_S_LO, _M_S_HI = M_S_RANGE[0] * (1 - EDGE_SLACK), M_S_RANGE[1] * (1 + EDGE_SLACK)
_M_4_LO, _M_4_HI = M_NU4_RANGE[0] * (1 - EDGE_SLACK), M_NU4_RANGE[1] * (1 + EDGE_SLACK)


@jit
def in_domain(v: FloatArray) -> bool:
    """physics.fused.in_domain_point on an array of 8 (GeV units)."""
    for i in range(v.size):
        if not math.isfinite(v[i]):
            return False
    g_D, U, m_S, m_4 = v[4], v[5], v[6], v[7]
    return bool(m_S < m_4 and _M_S_LO <= m_S <= _M_S_HI and _M_4_LO <= m_4 <= _M_4_HI and g_D >= 0.0
                and 0.0 <= U <= 1.0)


@jit
def evaluate(v: FloatArray, c: FloatArray, t2: FloatArray, x2: FloatArray, y2: FloatArray, t1: FloatArray,
             x1: FloatArray, out: FloatArray) -> None:
    """NP parts of every KERNEL_NAMES observable at v = (kappa, ..., m_nu4) in GeV units, written to out.
    Assumes v is inside the domain (:func:`in_domain`)."""
    kappa, eta_d, eta_c, eta_t, g_D, U, m_S, m_4 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
    q2 = m_S * m_S
    gbs2 = c[_C_GBS2] * (eta_t * eta_t)
    ecr = eta_c * c[_C_R_C]
    re = c[_C_PREF_S] * (eta_t * c[_C_LT_RE] + ecr * c[_C_LC_RE])
    im = c[_C_PREF_S] * (eta_t * c[_C_LT_IM] + ecr * c[_C_LC_IM])
    re2, im2 = re * re, im * im
    gsd2 = re2 + im2
    # S widths and branching ratios
    ye2 = eta_d * eta_d
    gg = kappa * kappa * (m_S * q2) * c[_C_INV64PI]
    s = _sqrtpos(1.0 - c[_C_FOUR_ME2] / q2)
    ee = ye2 * c[_C_Y_E2] * m_S * (s * s * s) * c[_C_INV8PI]
    s = _sqrtpos(1.0 - c[_C_FOUR_MMU2] / q2)
    mumu = ye2 * c[_C_Y_MU2] * m_S * (s * s * s) * c[_C_INV8PI]
    U2 = U * U
    nunu = g_D * g_D * (U2 * U2) * m_S * c[_C_INV8PI]
    tot = gg + ee + mumu + nunu
    # width / total as decays.SWidths._br does (a reciprocal overflows when tot is subnormal)
    pos = tot > 0.0
    br_gg, br_ee, br_nunu = (gg / tot, ee / tot, nunu / tot) if pos else (0.0, 0.0, 0.0)
    # two-body B and K decays to S
    f0 = c[_C_F0_BK_0] / (1.0 - q2 * c[_C_INV_MFIT])
    bks = gbs2 * c[_C_BK_K] * (f0 * f0) * _sqrtpos(c[_C_BK_L0] + q2 * (q2 - c[_C_BK_L1]))
    a = math.sqrt(c[_C_Z_TP] - q2)
    A0 = (c[_C_A0] + c[_C_A1] * ((a - c[_C_Z_B]) / (a + c[_C_Z_B]) - c[_C_Z0])) / (1.0 - q2 * c[_C_INV_MR2])
    gA = gbs2 * (A0 * A0)
    s = _sqrtpos(c[_C_KST0_L0] + q2 * (q2 - c[_C_KST0_L1]))
    kst0 = gA * c[_C_KST0_K] * (s * s * s)
    s = _sqrtpos(c[_C_KSTP_L0] + q2 * (q2 - c[_C_KSTP_L1]))
    kstp = gA * c[_C_KSTP_K] * (s * s * s)
    kp = gsd2 * c[_C_KP_K] * _sqrtpos(c[_C_KP_L0] + q2 * (q2 - c[_C_KP_L1]))
    s = _sqrtpos(c[_C_KL_L0] + q2 * (q2 - c[_C_KL_L1]))
    mode = c[_C_KL_MODE]
    kl = (re2 if mode == 0.0 else im2 if mode == 1.0 else gsd2) * c[_C_KL_K] * s
    ks = im2 * c[_C_KS_K] * s
    amp2 = gbs2 * c[_C_BS_AMP] / ((c[_C_M_BS2] - q2) * (c[_C_M_BS2] - q2))
    out[0], out[1], out[2] = bks, kst0, kstp
    out[3], out[4], out[5] = bks * br_nunu, kst0 * br_nunu, kstp * br_nunu
    out[6] = kst0 * br_ee * (1.0 if c[_C_KSTEE_LO] <= m_S <= c[_C_KSTEE_HI] else 0.0)
    out[7] = amp2 * (kappa * kappa) * c[_C_BS_GG]
    out[8] = amp2 * (ye2 * c[_C_Y_MU2]) * c[_C_BS_MM]
    out[9], out[10], out[11] = kp, kl, ks
    out[12], out[13], out[14], out[15] = kp * br_nunu, kl * br_nunu, kl * br_ee, kl * br_gg
    out[16], out[17] = ks * br_gg, kp * br_gg
    out[18] = gbs2 * c[_C_DM_BS] / abs(c[_C_M_BS2] - q2)
    out[19] = gsd2 * c[_C_DM_K] / abs(c[_C_M_K02] - q2)
    out[20], out[21], out[22], out[23] = tot, br_gg, br_ee, br_nunu
    out[24] = c[_C_HBAR_C_MM] / tot if tot > 0.0 else np.inf
    out[25] = c[_C_HBAR_PS] / tot if tot > 0.0 else np.inf
    # nucleon couplings in the operation order of nucleon._g_SN
    hq = eta_c + eta_d + eta_t
    g_Sp = c[_C_GP_M] * (0.0 * c[_C_GP_FU] + eta_d * c[_C_GP_FD] + eta_d * c[_C_GP_FS] + c[_C_GP_H] * hq)
    g_Sn = c[_C_GN_M] * (0.0 * c[_C_GN_FU] + eta_d * c[_C_GN_FD] + eta_d * c[_C_GN_FS] + c[_C_GN_H] * hq)
    out[26], out[27] = g_Sp, g_Sn
    # K+ -> mu+ nu S (S -> ee) above the m_ee cut: Clenshaw sum of the Chebyshev form (kaon.py)
    kmunu = 0.0
    if m_S >= c[_C_KMUNU_CUT]:
        t = 2.0 * (2.0 * m_S - (c[_C_CHEB_LO] + c[_C_CHEB_HI])) / (c[_C_CHEB_HI] - c[_C_CHEB_LO])
        b1 = 0.0
        b2 = 0.0
        for k in range(_N_CHEB - 1, 0, -1):
            b1, b2 = c[_C_CHEB + k] + t * b1 - b2, b1
        kmunu = eta_d * eta_d * (c[_C_CHEB] + 0.5 * t * b1 - b2) * br_ee
    out[28] = kmunu
    y = eta_d * c[_C_Y_MU]
    out[29] = kappa * y * c[_C_G2_LOG] * math.log(c[_C_LAMBDA2] / q2) + y * y * c[_C_G2_YUK] * _yukawa(
        q2 / c[_C_M_MU2])
    # scattering tables: bicubic pieces in (ln m_S, m_nu4), clamped to the knot range as FITPACK does
    x = min(max(math.log(m_S), x2[0]), x2[x2.size - 1])
    yy = min(max(m_4, y2[0]), y2[y2.size - 1])
    ix, iy = _cell(x2, x), _cell(y2, yy)
    dx, dy = x - x2[ix], yy - y2[iy]
    dy2 = dy * dy
    dy3 = dy2 * dy
    dx2 = dx * dx
    dx3 = dx2 * dx
    cell = ix * (y2.size - 1) + iy
    k2 = np.empty(5)
    for j in range(5):
        r = t2[cell, j]
        k2[j] = math.exp(r[0] + r[1] * dy + r[2] * dy2 + r[3] * dy3 + r[4] * dx + r[5] * (dx * dy)
                         + r[6] * (dx * dy2) + r[7] * (dx * dy3) + r[8] * dx2 + r[9] * (dx2 * dy)
                         + r[10] * (dx2 * dy2) + r[11] * (dx2 * dy3) + r[12] * dx3 + r[13] * (dx3 * dy)
                         + r[14] * (dx3 * dy2) + r[15] * (dx3 * dy3))
    i1 = _cell(x1, m_4)
    d = m_4 - x1[i1]
    z_si = math.exp(((t1[0, i1, 0] * d + t1[1, i1, 0]) * d + t1[2, i1, 0]) * d + t1[3, i1, 0])
    z_o = math.exp(((t1[0, i1, 1] * d + t1[1, i1, 1]) * d + t1[2, i1, 1]) * d + t1[3, i1, 1])
    ge = g_D * U * (1.0 - U2)
    vis = ((gg + ee + mumu) / tot if pos else 0.0) * (ge * ge)
    g_C, g_Si, g_O = 6 * g_Sp + 6 * g_Sn, 14 * g_Sp + 14 * g_Sn, 8 * g_Sp + 8 * g_Sn
    out[30] = vis * (g_C * g_C * k2[0] + 8 * (g_Sp * g_Sp) * k2[1] + 6 * (g_Sn * g_Sn) * k2[2]) * c[_C_INV_R_NORM]
    out[31] = vis * (g_Si * g_Si * k2[3] + 2 * (g_O * g_O) * k2[4]) * c[_C_INV_CHARM] / (z_si + 2 * z_o)
    for j in range(v.size):
        out[_O_PARAMS + j] = v[j] / c[_C_UNIT + j]


def check_layout() -> None:
    """Raise if the constant layout and the index names above disagree (run by the tests)."""
    if len(_CONST_NAMES) != _C_CHEB + _N_CHEB or _CONST_NAMES[_C_UNIT] != f"unit_{PARAM_NAMES[0]}":
        raise AssertionError("physics.kernel constant layout is inconsistent")
    if _CONST_NAMES[_C_CHEB_HI] != "cheb_hi" or _CONST_NAMES[_C_GN_H] != "gn_h":
        raise AssertionError("physics.kernel constant indices are shifted")
