"""Upscattering nu_mu + target -> nu4 + target through a scalar S or the reference Z'.

Source: ``docs/physics/g2-scattering.md`` §4 (kinematics §4.2, scalar §4.3, Z' §4.4, form factors
§4.5) and §7 (coupling-stripped flux integrals K_t). Units: GeV everywhere; cross sections in natural
units (GeV^-2, dsigma/dT in GeV^-3); multiply by ``CONST.GeV2_to_cm2`` for cm^2.

Every differential cross section is written as ``numerator(E, T) * propagator(T)`` with the propagator
1/(2 M T + m_med^2)^2 carrying the only dependence on the mediator mass, so that one quadrature grid
serves many mediator masses (the table generator uses this). The "kernels" are the cross sections with
the couplings stripped: scalar, dsigma/dT / (g_eff^2 g_t^2) with g_t = g_SA (nucleus) or g_SN
(nucleon); Z', dsigma/dT / (g_eff'^2 e^2 eps^2), the nuclear charge Z included.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import spherical_jn

from physics.constants import CONST

FloatArray = NDArray[np.float64]

FLUX_FILE = "miniboone_numu_flux.csv"
# quadrature defaults of the reference ("direct") path: trapezoid in sqrt(E - E_th) (1000 nodes) and
# Simpson in ln T (161 nodes): converged to 2e-5 against 16000 x 960 nodes (tested)
N_E_DEFAULT = 1000
N_T_DEFAULT = 161
N_T_SINGLE_E = 401
FM_PER_INV_GEV = CONST.hbar_c * 1e15  # hbar c in GeV fm: q [GeV] -> q/(hbar c) [fm^-1]


@dataclass(frozen=True)
class Target:
    """A scattering target: a spin-0 nucleus (coherent, Helm form factor) or a free nucleon."""

    name: str
    mass: float  # GeV
    A: int
    Z: int
    coherent: bool


CARBON12 = Target("C12", CONST.M_C12, 12, 6, True)
OXYGEN16 = Target("O16", CONST.M_O16, 16, 8, True)
SILICON28 = Target("Si28", CONST.M_Si28, 28, 14, True)
PROTON = Target("p", CONST.m_p, 1, 1, False)
NEUTRON = Target("n", CONST.m_n, 1, 0, False)


# ---------------------------------------------------------------------------------------------------
# kinematics and form factors
# ---------------------------------------------------------------------------------------------------

def threshold_energy(m4: ArrayLike, M: float) -> FloatArray:
    """E_th = m4 + m4^2/(2M) [GeV] for nu + M -> nu4 + M, target at rest (docs/physics/g2-scattering.md §4.2)."""
    m4 = np.asarray(m4, dtype=np.float64)
    return np.asarray(m4 + m4**2 / (2.0 * M), dtype=np.float64)


def recoil_range(E: ArrayLike, m4: ArrayLike, M: float) -> tuple[FloatArray, FloatArray]:
    """(T_min, T_max) [GeV] of the target recoil kinetic energy at neutrino energy E [GeV].

    docs/physics/g2-scattering.md §4.2: s = M^2 + 2ME, p_i = (s-M^2)/(2 sqrt s), E4* = (s+m4^2-M^2)/(2 sqrt s),
    Q^2_max = 2 p_i (E4* + p_f) - m4^2, T = Q^2/(2M). Q^2_min is taken from the product
    Q^2_min Q^2_max = m4^4 M^2 / s (exact), which avoids the cancellation at high E. Below threshold
    both are set to the threshold value (zero width).
    """
    E, m4 = np.broadcast_arrays(np.asarray(E, dtype=np.float64), np.asarray(m4, dtype=np.float64))
    s = M**2 + 2.0 * M * E
    rs = np.sqrt(s)
    p_i = (s - M**2) / (2.0 * rs)
    E4 = (s + m4**2 - M**2) / (2.0 * rs)
    p_f = np.sqrt(np.clip(E4**2 - m4**2, 0.0, None))
    Q2_max = np.clip(2.0 * p_i * (E4 + p_f) - m4**2, 1e-300, None)
    Q2_min = np.minimum(m4**4 * M**2 / (s * Q2_max), Q2_max)
    return Q2_min / (2.0 * M), Q2_max / (2.0 * M)


NuclearFormFactor = Literal["lewin_smith", "engel"]
NUCLEAR_FORM_FACTORS: tuple[str, ...] = ("lewin_smith", "engel")


def helm_radii(A: int, model: str = "lewin_smith") -> tuple[float, float]:
    """(R0, s) [fm] of the Helm form factor of a nucleus of mass number A in one of two parametrisations.

    docs/physics/g2-scattering.md §4.5 and §5.6:
    * "lewin_smith": R0^2 = c^2 + (7/3) pi^2 a^2 - 5 s^2, c = 1.23 A^(1/3) - 0.60 fm, a = 0.52 fm,
      s = 0.9 fm (Lewin-Smith, Astropart. Phys. 6, 87 (1996), eq. 4.11); R0 = 2.66 fm for C12.
    * "engel": R0^2 = R^2 - 5 s^2, R = 1.2 A^(1/3) fm, s = 1 fm (Engel, PLB 264, 114 (1991); GENIE's
      EngelFormFactor, used by its Bertuzzo et al. upscattering); R0 = 1.60 fm for C12.
    """
    if model == "lewin_smith":
        c = CONST.helm_c_slope * A ** (1.0 / 3.0) + CONST.helm_c_offset
        a, sk = CONST.helm_a, CONST.helm_s
        return float(np.sqrt(c**2 + (7.0 / 3.0) * np.pi**2 * a**2 - 5.0 * sk**2)), float(sk)
    if model == "engel":
        R, sk = CONST.engel_r_slope * A ** (1.0 / 3.0), CONST.engel_s
        return float(np.sqrt(R**2 - 5.0 * sk**2)), float(sk)
    raise ValueError(f"unknown nuclear form factor {model!r}; choose one of {', '.join(NUCLEAR_FORM_FACTORS)}")


def helm_form_factor(q: ArrayLike, A: int, model: str = "lewin_smith") -> FloatArray:
    """Helm form factor F(q) = 3 j1(q R0)/(q R0) exp(-q^2 s^2 / 2), q [GeV], dimensionless, F(0) = 1.

    Helm, PR 104, 1466 (1956); R0 and s from :func:`helm_radii` for the named parametrisation
    (docs/physics/g2-scattering.md §4.5, §5.6).
    """
    q_fm = np.asarray(q, dtype=np.float64) / FM_PER_INV_GEV
    R, sk = helm_radii(A, model)
    x = q_fm * R
    small = x < 1e-3
    x_safe = np.where(small, 1.0, x)
    core = np.where(small, 1.0 - x**2 / 10.0, 3.0 * spherical_jn(1, x_safe) / x_safe)
    return np.asarray(core * np.exp(-0.5 * (q_fm * sk) ** 2), dtype=np.float64)


def dipole_form_factor(Q2: ArrayLike) -> FloatArray:
    """Nucleon dipole G_D = (1 + Q^2/M_V^2)^-2, M_V = CONST.M_dipole = 0.843 GeV; Q^2 in GeV^2
    (docs/physics/g2-scattering.md §4.4-4.5, as in DarkNews 0.4.8)."""
    return np.asarray((1.0 + np.asarray(Q2, dtype=np.float64) / CONST.M_dipole**2) ** -2, dtype=np.float64)


def _coherent_ff2(T: FloatArray, target: Target, model: str) -> FloatArray:
    return helm_form_factor(np.sqrt(2.0 * target.mass * T), target.A, model) ** 2


# ---------------------------------------------------------------------------------------------------
# differential cross sections (coupling-stripped): numerator(E, T) * propagator(T, m_med)
# ---------------------------------------------------------------------------------------------------

def propagator(T: ArrayLike, m_med: ArrayLike, target: Target) -> FloatArray:
    """1/(Q^2 + m_med^2)^2 with Q^2 = 2 M T [GeV^-4] (t-channel mediator of mass m_med [GeV])."""
    Q2 = 2.0 * target.mass * np.asarray(T, dtype=np.float64)
    return np.asarray(1.0 / (Q2 + np.asarray(m_med, dtype=np.float64) ** 2) ** 2, dtype=np.float64)


def scalar_numerator(E: ArrayLike, T: ArrayLike, m4: ArrayLike, target: Target,
                     nucleon_ff: bool = True, nuclear_ff: str = "lewin_smith") -> FloatArray:
    """Scalar upscattering numerator [GeV^1]: dsigma_S/dT = g_eff^2 g_t^2 * this * propagator.

    docs/physics/g2-scattering.md §4.3: spin-0 nucleus F^2 M (m4^2 + 2MT) / (8 pi E^2) with the Helm F;
    nucleon G_D^2 m_N (m4^2 + 2 m_N T)(1 + T/(2 m_N)) / (8 pi E^2), G_D dropped if not nucleon_ff.
    ``nuclear_ff`` names the Helm parametrisation of the nucleus (:func:`helm_radii`).
    """
    E, T, m4 = (np.asarray(x, dtype=np.float64) for x in (E, T, m4))
    M = target.mass
    base = M * (m4**2 + 2.0 * M * T) / (8.0 * np.pi * E**2)
    if target.coherent:
        return np.asarray(base * _coherent_ff2(T, target, nuclear_ff), dtype=np.float64)
    spin = 1.0 + T / (2.0 * M)
    ff2 = dipole_form_factor(2.0 * M * T) ** 2 if nucleon_ff else 1.0
    return np.asarray(base * spin * ff2, dtype=np.float64)


def _lh_spin0(E: FloatArray, T: FloatArray, m4: FloatArray, M: float) -> FloatArray:
    """L.H = 2[2 (k'.P)(k.P) - P^2 k.k'] of the vector current on a spin-0 target (§4.4)."""
    kk = 0.5 * (m4**2 + 2.0 * M * T)
    kP = 2.0 * M * E - kk
    kpP = 2.0 * M * (E - T) + kk - m4**2
    P2 = 4.0 * M**2 + 2.0 * M * T
    return 2.0 * (2.0 * kpP * kP - P2 * kk)


def zp_numerator(E: ArrayLike, T: ArrayLike, m4: ArrayLike, target: Target,
                 nuclear_ff: str = "lewin_smith") -> FloatArray:
    """Z' (kinetic mixing) upscattering numerator [GeV]: dsigma_Z'/dT = g_eff'^2 e^2 eps^2 * this *
    propagator.

    docs/physics/g2-scattering.md §4.4. Nucleus: Z^2 F^2 L.H / (32 pi M E^2) with the spin-0 L.H and the Helm F.
    Proton: L.H = (F1^2 + tau F2^2) L.PP + (F1+F2)^2 (m4^2 + Q^2)(2Q^2 - m4^2), tau = Q^2/(4 m_p^2),
    F1 = (G_E + tau G_M)/(1+tau), F2 = (G_M - G_E)/(1+tau), G_E = G_D, G_M = mu_p G_D; divided by
    32 pi m_p E^2. Neutrons are neglected (F1 ~ 0; as in DarkNews and Bertuzzo et al.).
    """
    E, T, m4 = (np.asarray(x, dtype=np.float64) for x in (E, T, m4))
    M = target.mass
    lh0 = _lh_spin0(E, T, m4, M)
    if target.coherent:
        out = target.Z**2 * _coherent_ff2(T, target, nuclear_ff) * lh0 / (32.0 * np.pi * M * E**2)
        return np.asarray(out, dtype=np.float64)
    if target.Z == 0:
        raise ValueError("Z' scattering on neutrons is neglected (docs/physics/g2-scattering.md §4.4)")
    Q2 = 2.0 * M * T
    tau = Q2 / (4.0 * M**2)
    G_E = dipole_form_factor(Q2)
    G_M = CONST.mu_p * G_E
    F1 = (G_E + tau * G_M) / (1.0 + tau)
    F2 = (G_M - G_E) / (1.0 + tau)
    lh = (F1**2 + tau * F2**2) * lh0 + (F1 + F2) ** 2 * (m4**2 + Q2) * (2.0 * Q2 - m4**2)
    return np.asarray(lh / (32.0 * np.pi * M * E**2), dtype=np.float64)


Numerator = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]


def numerator_for(kind: str, target: Target, nucleon_ff: bool = True,
                  nuclear_ff: str = "lewin_smith") -> Numerator:
    """The numerator function (E, T, m4) -> GeV for kind "scalar" or "zp" on a target."""
    if kind == "scalar":
        return lambda E, T, m4: scalar_numerator(E, T, m4, target, nucleon_ff, nuclear_ff)
    if kind == "zp":
        return lambda E, T, m4: zp_numerator(E, T, m4, target, nuclear_ff)
    raise ValueError(f"unknown mediator kind {kind!r}; choose 'scalar' or 'zp'")


def dsigma_dT(kind: str, E: ArrayLike, T: ArrayLike, m4: ArrayLike, m_med: ArrayLike, target: Target,
              nucleon_ff: bool = True, nuclear_ff: str = "lewin_smith") -> FloatArray:
    """Coupling-stripped dsigma/dT [GeV^-3] (kernel = numerator * propagator), §4.3-4.4."""
    num = numerator_for(kind, target, nucleon_ff, nuclear_ff)
    E, T, m4 = (np.asarray(x, dtype=np.float64) for x in (E, T, m4))
    return np.asarray(num(E, T, m4) * propagator(T, m_med, target), dtype=np.float64)


# ---------------------------------------------------------------------------------------------------
# quadrature
# ---------------------------------------------------------------------------------------------------

def _trapezoid_weights(n: int) -> FloatArray:
    w = np.full(n, 1.0 / (n - 1))
    w[[0, -1]] *= 0.5
    return w


def _simpson_weights(n: int) -> FloatArray:
    """Composite Simpson weights on [0, 1] for odd n (trapezoid if n is even)."""
    if n % 2 == 0:
        return _trapezoid_weights(n)
    w = np.full(n, 2.0)
    w[1::2] = 4.0
    w[[0, -1]] = 1.0
    return w / (3.0 * (n - 1))


def recoil_grid(E: ArrayLike, m4: ArrayLike, target: Target, n_T: int) -> tuple[FloatArray, FloatArray]:
    """Log-spaced recoil grid over [T_min(E), T_max(E)] with trapezoid weights dT (shape E.shape + (n_T,)).

    Integrates f over T with Simpson's rule in ln T (f T d ln T; odd n_T), exact range of §4.2.
    """
    T_lo, T_hi = recoil_range(E, m4, target.mass)
    ln_lo, ln_hi = np.log(T_lo)[..., None], np.log(T_hi)[..., None]
    v = np.linspace(0.0, 1.0, n_T)
    T = np.exp(ln_lo + (ln_hi - ln_lo) * v)
    return T, T * (ln_hi - ln_lo) * _simpson_weights(n_T)


def sigma_at_energy(kind: str, E: ArrayLike, m4: ArrayLike, m_med: ArrayLike, target: Target,
                    nucleon_ff: bool = True, n_T: int = N_T_SINGLE_E,
                    nuclear_ff: str = "lewin_smith") -> FloatArray:
    """Coupling-stripped total cross section sigma(E) = int dT dsigma/dT [GeV^-2] at fixed E [GeV].

    Vectorised over broadcast E, m4, m_med; zero below threshold (§4.2-4.4).
    """
    E, m4, m_med = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (E, m4, m_med)))
    T, w = recoil_grid(E, m4, target, n_T)
    k = dsigma_dT(kind, E[..., None], T, m4[..., None], m_med[..., None], target, nucleon_ff, nuclear_ff)
    out = np.sum(k * w, axis=-1)
    return np.asarray(np.where(E > threshold_energy(m4, target.mass), out, 0.0), dtype=np.float64)


@dataclass(frozen=True)
class Flux:
    """Tabulated neutrino flux: bin centres E [GeV], phi [nu/cm^2/POT/GeV] (linear interpolation)."""

    E: FloatArray
    phi: FloatArray
    E_max: float  # upper end of the last bin [GeV]

    def __call__(self, E: ArrayLike) -> FloatArray:
        E_arr = np.asarray(E, dtype=np.float64)
        return np.asarray(np.interp(E_arr, self.E, self.phi, left=0.0, right=self.phi[-1]), dtype=np.float64)

    def integral(self) -> float:
        """int phi dE [nu/cm^2/POT] as the sum over bins (bin width from the centre spacing)."""
        return float(np.sum(self.phi) * (self.E[1] - self.E[0]))

    def scaled(self, factor: float) -> Flux:
        return Flux(self.E, self.phi * factor, self.E_max)

    @classmethod
    def from_bin_centres(cls, E: ArrayLike, phi: ArrayLike) -> Flux:
        """From equally spaced bin centres; the flux extends to the upper edge of the last bin."""
        E, phi = np.asarray(E, dtype=np.float64), np.asarray(phi, dtype=np.float64)
        return cls(E, phi, float(E[-1] + 0.5 * (E[1] - E[0])))


@cache
def miniboone_flux() -> Flux:
    """BNB nu_mu flux in neutrino mode, arXiv:0806.1449, as shipped by DarkNews 0.4.8
    (``physics/data/miniboone_numu_flux.csv``, written by tools/generate_scattering_tables.py)."""
    text = resources.files("physics.data").joinpath(FLUX_FILE).read_text(encoding="utf-8")
    rows = [r for r in csv.reader(line for line in text.splitlines() if line and not line.startswith("#"))]
    data = np.array([[float(x) for x in r] for r in rows[1:]], dtype=np.float64)
    return Flux.from_bin_centres(data[:, 0], data[:, 1])


def flux_folded_grid(m4: ArrayLike, target: Target, flux: Flux, n_E: int = N_E_DEFAULT,
                     n_T: int = N_T_DEFAULT) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Quadrature nodes (E, T) and weights for int dE phi(E) int dT, E in [E_th, E_max], shapes
    (N, n_E, n_T) for N values of m4 (§5.1, §7). E = E_th + (E_max - E_th) u^2 with the trapezoid rule
    in u (smooth across the sqrt(E - E_th) threshold), Simpson in ln T."""
    m4 = np.atleast_1d(np.asarray(m4, dtype=np.float64))
    E_th = threshold_energy(m4, target.mass)[:, None]
    u = np.linspace(0.0, 1.0, n_E)
    E = E_th + (flux.E_max - E_th) * u**2
    w_E = (flux.E_max - E_th) * 2.0 * u * _trapezoid_weights(n_E) * flux(E)
    T, w_T = recoil_grid(E, m4[:, None], target, n_T)
    return np.broadcast_to(E[..., None], T.shape), T, w_E[..., None] * w_T


def flux_folded(kind: str, m4: ArrayLike, m_med: ArrayLike, target: Target, flux: Flux | None = None,
                nucleon_ff: bool = True, n_E: int = N_E_DEFAULT, n_T: int = N_T_DEFAULT,
                chunk: int = 8, nuclear_ff: str = "lewin_smith") -> FloatArray:
    """Direct flux-folded integral K = int dE phi(E) int dT dsigma/dT (couplings stripped) per point.

    docs/physics/g2-scattering.md §7 (K_t for the scalar; the Z' analogue with e^2 eps^2 g'^2 stripped).
    In: m4, m_med [GeV] broadcast to N points; flux in nu/cm^2/POT/GeV (default: MiniBooNE nu_mu).
    Out: (N,) in GeV^-2 nu/cm^2/POT. Vectorised over points, in chunks of ``chunk`` to bound memory.
    """
    flux = flux or miniboone_flux()
    m4, m_med = np.broadcast_arrays(np.atleast_1d(np.asarray(m4, dtype=np.float64)),
                                    np.atleast_1d(np.asarray(m_med, dtype=np.float64)))
    num = numerator_for(kind, target, nucleon_ff, nuclear_ff)
    out = np.empty(m4.shape, dtype=np.float64)
    for start in range(0, m4.size, chunk):
        sl = slice(start, start + chunk)
        E, T, w = flux_folded_grid(m4[sl], target, flux, n_E, n_T)
        mm = m4[sl][:, None, None]
        out[sl] = np.sum(w * num(E, T, mm) * propagator(T, m_med[sl][:, None, None], target), axis=(1, 2))
    return out
