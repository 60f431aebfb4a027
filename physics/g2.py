"""Anomalous magnetic moments of the muon and electron from the scalar S.

Delta a_l = (kappa Barr-Zee-like leading log) + (one-loop Yukawa), docs/physics/g2-scattering.md §1 (paper:
"log enhanced term of the Barr-Zee diagram", Lambda = 2 TeV). Optional pieces, off in the paper scenario:
the MSbar finite part of the kappa loop and the two-loop Barr-Zee diagrams with the model's own fermions.
Inputs in GeV units (kappa in GeV^-1); outputs dimensionless. The paper-scenario pieces are
``physics.jit.shared`` formulas (or compiled scalars), called both here and by the compiled kernel.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from physics.constants import CONST, VALUES
from physics.jit import ENABLED, clear_stale_cache, compiled_as, jit, shared
from physics.params import FloatArray, ModelParams

if ENABLED:
    from physics import jit as _jit_module

    clear_stale_cache(__file__, [_jit_module.__file__])


@cache
def _gauss(a: float, b: float, n: int = 64) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and weights on [a, b] (cached: the eigenvalue solve costs ~10 ms)."""
    x, w = np.polynomial.legendre.leggauss(n)
    nodes, weights = 0.5 * (b - a) * x + 0.5 * (b + a), 0.5 * (b - a) * w
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


@shared
def kappa_loop(kappa: FloatArray, eta_d: FloatArray, m_l: float, bracket: FloatArray) -> FloatArray:
    """Delta a_l^kappa = kappa y_l m_l / (8 pi^2) x bracket, y_l = eta_d m_l / v (docs/physics/g2-scattering.md
    §1.1); bracket = ln(Lambda^2 / m_S^2) [+ the finite constant]."""
    y = eta_d * (m_l / VALUES.v)
    return kappa * y * (m_l / (8.0 * np.pi**2)) * bracket


@shared
def kappa_leading_log(kappa: FloatArray, eta_d: FloatArray, m_S: FloatArray, m_l: float) -> FloatArray:
    """Delta a_l^kappa = kappa y_l m_l / (8 pi^2) ln(Lambda^2 / m_S^2), y_l = eta_d m_l / v.

    docs/physics/g2-scattering.md §1.1 (leading log, cut-off Lambda = 2 TeV from constants.yaml); positive for
    kappa eta_d > 0 with the signs of paper eq. (2).
    """
    return kappa_loop(kappa, eta_d, m_l, np.log(VALUES.Lambda**2 / m_S**2))


def kappa_finite_constant(m_S: FloatArray, m_l: float) -> FloatArray:
    """Finite bracket constant of the exact one-loop EFT result (MSbar, mu = Lambda),
    docs/physics/g2-scattering.md §1.1:
    c = -2 int_0^1 dx int_0^{1-x} dy ln(x^2 rho + 1 - x - y), rho = m_l^2/m_S^2; c -> 3/2 for m_S >> m_l.

    The y integral is done in closed form, the x integral by 64-point Gauss-Legendre.
    """
    rho = (m_l / np.asarray(m_S, dtype=float))[:, None] ** 2
    x, w = _gauss(0.0, 1.0)
    a = x**2 * rho + 1.0 - x  # argument at y = 0
    b = x**2 * rho  # argument at y = 1 - x

    def xlogx(z: FloatArray) -> FloatArray:
        return np.where(z > 0, z * np.log(np.where(z > 0, z, 1.0)), 0.0)

    inner = (xlogx(a) - a) - (xlogx(b) - b)  # int_0^{1-x} ln(a - y) dy
    return np.asarray(-2.0 * (inner @ w), dtype=float)


def _yukawa_integral_scalar(r: float) -> float:
    # the compiled form: the closed form where it is well conditioned; the kernel needs only the muon (r <= 2.1)
    return yukawa_closed_form(r) if r <= _CLOSED_FORM_MAX_R else math.nan


_CLOSED_FORM_MAX_R = 50.0


@compiled_as(_yukawa_integral_scalar)
def yukawa_loop_integral(r: FloatArray) -> FloatArray:
    """I(r) = int_0^1 x^2 (2 - x) / (x^2 + (1 - x) r) dx with r = m_S^2 / m_l^2 (Leveille 1978).

    Closed form for r <= 50 (well conditioned there); for larger r (electron) a Gauss-Legendre quadrature
    in ln(1 - x) near x = 1, where the integrand changes on the scale 1/r. Limits: 3/2 for r -> 0 and
    (ln r - 7/6)/r for r -> infinity. Inside compiled functions only the closed form exists (NaN beyond r = 50).
    """
    r = np.asarray(r, dtype=float)
    if r.ndim == 0:  # one value (the kernel run as plain Python): no array work
        one = yukawa_closed_form(float(r)) if r <= _CLOSED_FORM_MAX_R else _yukawa_quadrature(r[None])[0]
        return np.asarray(one)
    out = np.empty_like(r)
    small = r <= _CLOSED_FORM_MAX_R
    out[small] = _yukawa_closed_form(r[small])
    if not small.all():
        out[~small] = _yukawa_quadrature(r[~small])
    return out


@jit
def yukawa_closed_form(r: float) -> float:
    """I(r) of :func:`yukawa_loop_integral` at one r > 0 in closed form (well conditioned for r <= 50); compiled
    where numba is on, used by the physics kernel and, point by point, by :func:`yukawa_loop_integral`."""
    # x^2(2-x)/(x^2 - r x + r) = -x + (2 - r) + [r(3 - r) x - r(2 - r)]/D
    # = -x + (2 - r) + (A/2) D'/D + C/D with A = r(3 - r), C = -r(r - 1)(r - 4)/2
    disc = 4.0 * r - r * r
    if disc > 1e-12:  # complex roots; j = int_0^1 dx / (x^2 - r x + r)
        s = math.sqrt(disc)
        j = 2.0 / s * (math.atan((2.0 - r) / s) + math.atan(r / s))
    elif disc < -1e-12:
        q = math.sqrt(-disc)
        xp, xm = (r + q) / 2.0, (r - q) / 2.0
        j = math.log(abs((1.0 - xp) / (1.0 - xm)) / abs(xp / xm)) / q
    else:  # r = 4 (double root at x = 2): int_0^1 dx / (x - 2)^2 = 1/2
        j = 0.5
    return 1.5 - r + (r * (3.0 - r) / 2.0) * (-math.log(r)) + (-r * (r - 1.0) * (r - 4.0) / 2.0) * j


@jit
def _yukawa_closed_form_array(r: FloatArray, out: FloatArray) -> None:
    for i in range(r.size):
        out[i] = yukawa_closed_form(r[i])


def _yukawa_closed_form(r: FloatArray) -> FloatArray:
    r = np.ascontiguousarray(r, dtype=float)
    out = np.empty_like(r)
    _yukawa_closed_form_array(r, out)
    return out


def _yukawa_quadrature(r: FloatArray) -> FloatArray:
    rr = r[:, None]
    x1, w1 = _gauss(0.0, 0.5, 96)
    f1 = x1**2 * (2.0 - x1) / (x1**2 + (1.0 - x1) * rr)
    s, ws = _gauss(float(np.log(1e-18)), float(np.log(0.5)), 160)  # x = 1 - e^s
    om = np.exp(s)
    x2 = 1.0 - om
    f2 = x2**2 * (2.0 - x2) / (x2**2 + om * rr) * om
    return np.asarray(f1 @ w1 + f2 @ ws, dtype=float)


@shared
def yukawa_coupling_factor(eta_d: FloatArray, m_l: float) -> FloatArray:
    """y_l^2 / (8 pi^2), y_l = eta_d m_l / v: the factor of I(r) in :func:`yukawa_one_loop`."""
    y = eta_d * (m_l / VALUES.v)
    return y**2 * (1.0 / (8.0 * np.pi**2))


@shared
def yukawa_one_loop(eta_d: FloatArray, m_S: FloatArray, m_l: float) -> FloatArray:
    """Delta a_l^Y = y_l^2 / (8 pi^2) I(m_S^2 / m_l^2), y_l = eta_d m_l / v (docs/physics/g2-scattering.md §1.2).
    > 0."""
    return yukawa_coupling_factor(eta_d, m_l) * yukawa_loop_integral(m_S**2 * (1.0 / m_l**2))


def barr_zee_function(z: FloatArray) -> FloatArray:
    """g(z) = int_0^1 dx (2x(1-x) - 1)/(x(1-x) - z) ln(x(1-x)/z) for z > 1/4 (docs/physics/g2-scattering.md §1.1).

    Symmetric in x <-> 1-x; computed as twice the integral over [0, 1/2] with x = t^2 to tame ln x.
    """
    zz = np.asarray(z, dtype=float)[..., None]
    t, w = _gauss(0.0, float(np.sqrt(0.5)), 96)
    x = t**2
    xx = x * (1.0 - x)
    f = (2.0 * xx - 1.0) / (xx - zz) * np.log(xx / zz) * 2.0 * t
    return np.asarray(2.0 * (f @ w), dtype=float)


# loop fermions of the two-loop Barr-Zee term: (mass constant, N_c, Q, coupling rescaling name)
_BZ_FERMIONS = (("m_tau", 1, -1.0, "eta_d"), ("m_mu", 1, -1.0, "eta_d"), ("m_b", 3, -1.0 / 3.0, "eta_d"),
                ("m_c", 3, 2.0 / 3.0, "eta_c"), ("m_t", 3, 2.0 / 3.0, "eta_t"))


def barr_zee_fermion_loops(p: ModelParams, m_l: float) -> FloatArray:
    """Two-loop Barr-Zee with the model's own fermion loops (tau, mu, b with eta_d; c; t),
    docs/physics/g2-scattering.md §1.1:
    Delta a_l = alpha m_l^2 / (8 pi^3 v^2) sum_f N_c Q_f^2 eta_d lambda_f z g(z), z = m_f^2 / m_S^2.
    """
    total = np.zeros_like(p.m_S)
    for mass_name, nc, q, coupling in _BZ_FERMIONS:
        z = CONST[mass_name] ** 2 / p.m_S**2
        total += nc * q**2 * getattr(p, coupling) * z * barr_zee_function(z)
    return CONST.alpha * m_l**2 / (8.0 * np.pi**3 * CONST.v**2) * p.eta_d * total


@shared
def delta_a_paper(kappa: FloatArray, eta_d: FloatArray, m_S: FloatArray, m_l: float) -> FloatArray:
    """Delta a_l of the paper scenario: kappa leading log + one-loop Yukawa (docs/physics/g2-scattering.md §1)."""
    return kappa_leading_log(kappa, eta_d, m_S, m_l) + yukawa_one_loop(eta_d, m_S, m_l)


def delta_a_lepton(p: ModelParams, m_l: float, *, kappa_finite: bool = False,
                   two_loop_bz: bool = False) -> FloatArray:
    """Delta a_l for the lepton of mass m_l [GeV]: :func:`delta_a_paper`, optionally + the MSbar finite part of
    the kappa loop (its bracket's constant) and + the two-loop fermion-loop Barr-Zee terms."""
    out = delta_a_paper(p.kappa, p.eta_d, p.m_S, m_l)
    if kappa_finite:
        out = out + kappa_loop(p.kappa, p.eta_d, m_l, kappa_finite_constant(p.m_S, m_l))
    if two_loop_bz:
        out = out + barr_zee_fermion_loops(p, m_l)
    return np.asarray(out, dtype=float)
