"""MiniBooNE ratio R (paper eq. 7) and the CHARM-II ratio (paper eq. 8).

Source: ``docs/physics/g2-scattering.md`` §5 (MiniBooNE), §5.6 (the recast conventions), §6 (CHARM-II),
§7 (factorisation and tables); docs/physics/README.md items 7-10. Everything is vectorised over the N
points of a ModelParams.

R = g_eff^2 BR_vis [g_SA(C12)^2 K_C + 8 g_Sp^2 K_p + 6 g_Sn^2 K_n] / D_Z',
D_Z' = g_eff'^2 e^2 eps^2 (J_C [+ 8 J_p]) B(Z'->ee), per CH2 molecule, with the coupling-stripped flux
integrals K_t(m_S, m_nu4) and the Z' integrals J_t read from ``physics/data/scattering_tables.npz``
(written by tools/generate_scattering_tables.py) and interpolated by a bicubic spline of ln K in
(ln m_S, m_nu4); table and direct quadrature agree to <= 1e-5 in K and R (the tests assert 1e-4).
The conventions (nuclear form factor, Z' denominator coherent or coherent + incoherent, nucleon form
factor in the scalar's incoherent part) are fields of TheoryOptions; every combination has its tables.
The MiniBooNE Z' integrals at a Z' benchmark mass other than the tabulated one are computed by direct
quadrature once (a constant) and cached; CHARM-II options the tables do not cover raise
:class:`UntabulatedOptionError` naming the option.

Domain semantics: the table functions (:func:`r_miniboone`, :func:`r_charm2`) raise ``ValueError``
naming the parameter and the domain when any point lies outside the table domain (m_S in [10, 150] MeV,
m_nu4 in [400, 700] MeV); select points first with :func:`in_table_domain`. They never return NaN.
The direct path (:func:`r_miniboone_direct`) has no table domain.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import CubicSpline, PPoly, RectBivariateSpline

from physics.benchmarks import all_benchmarks
from physics.decays import s_widths
from physics.domain import inside
from physics.errors import DarkportalError
from physics.jit import ENABLED, clear_stale_cache, jit, shared
from physics.nucleon import g_eff, scalar_nucleon_couplings
from physics.options import TheoryOptions
from physics.params import ModelParams
from physics.scattering import (
    CARBON12,
    NEUTRON,
    OXYGEN16,
    PROTON,
    SILICON28,
    Flux,
    Target,
    flux_folded,
    sigma_at_energy,
)

LOG = logging.getLogger(__name__)
FloatArray = NDArray[np.float64]
if ENABLED:
    from physics import jit as _jit_module

    clear_stale_cache(__file__, [_jit_module.__file__])
TABLE_FILE = "scattering_tables.npz"

# targets per CH2 molecule (docs/physics/g2-scattering.md §5.1): C12 coherent; 8 protons (6 bound + 2 free); 6 neutrons
N_PROTONS_CH2 = 8
N_NEUTRONS_CH2 = 6
# glass as SiO2 (docs/physics/g2-scattering.md §6)
N_O_SIO2 = 2


class UntabulatedOptionError(DarkportalError, ValueError):
    """A theory option whose value the shipped scattering tables do not cover (carries the option)."""

    def __init__(self, option: str, value: float, tabulated: float):
        self.option, self.value, self.tabulated = option, value, tabulated
        self.problem = (f"theory option {option} = {value:g} is not covered by the shipped scattering tables "
                        f"(tabulated: {tabulated:g})")
        super().__init__(f"{self.problem}; use {option}: {tabulated:g}, or rebuild the tables for it with "
                         "tools/generate_scattering_tables.py after changing its grid")


def _ff_suffix(nuclear_ff: str) -> str:
    """Table-name suffix of a nuclear form factor model ("" for the Lewin-Smith tables written first)."""
    return "" if nuclear_ff == "lewin_smith" else f"_{nuclear_ff}"


def _require_tabulated(options: TheoryOptions) -> None:
    """Raise UntabulatedOptionError if CHARM-II needs a table the shipped file does not hold."""
    meta = load_tables().metadata
    for option in ("charm_E", "zp_m_Zp"):
        if getattr(options, option) != meta[option]:
            raise UntabulatedOptionError(option, getattr(options, option), meta[option])


def check_options(options: TheoryOptions) -> None:
    """Raise UntabulatedOptionError for options the shipped tables do not cover (for run-file validation)."""
    _require_tabulated(options)


# (Z, A - Z) of the nuclei, as numbers the shared formulas below compile in
_C12 = (float(CARBON12.Z), float(CARBON12.A - CARBON12.Z))
_SI28 = (float(SILICON28.Z), float(SILICON28.A - SILICON28.Z))
_O16 = (float(OXYGEN16.Z), float(OXYGEN16.A - OXYGEN16.Z))


@shared
def g_SA(Z: float, N: float, g_Sp: FloatArray, g_Sn: FloatArray) -> FloatArray:
    """Scalar-nucleus coupling g_SA = Z g_Sp + N g_Sn, N = A - Z (docs/physics/g2-scattering.md §3)."""
    return Z * g_Sp + N * g_Sn


@shared
def miniboone_hadronic(g_Sp: FloatArray, g_Sn: FloatArray, K_C: FloatArray, K_p: FloatArray,
                       K_n: FloatArray) -> FloatArray:
    """The bracket of eq. (7) per CH2: g_SA(C12)^2 K_C + 8 g_Sp^2 K_p + 6 g_Sn^2 K_n (§5.1), with the
    coupling-stripped flux-folded integrals K [GeV^-2 nu/cm^2/POT]."""
    return g_SA(_C12[0], _C12[1], g_Sp, g_Sn) ** 2 * K_C + N_PROTONS_CH2 * g_Sp**2 * K_p \
        + N_NEUTRONS_CH2 * g_Sn**2 * K_n


@shared
def charm_hadronic(g_Sp: FloatArray, g_Sn: FloatArray, s_Si: FloatArray, s_O: FloatArray) -> FloatArray:
    """The scalar sum of eq. (8) over SiO2: g_SA(Si28)^2 sigma_Si + 2 g_SA(O16)^2 sigma_O (§6)."""
    return g_SA(_SI28[0], _SI28[1], g_Sp, g_Sn) ** 2 * s_Si + N_O_SIO2 * g_SA(_O16[0], _O16[1], g_Sp, g_Sn) ** 2 * s_O


@shared
def charm_zp(z_Si: FloatArray, z_O: FloatArray) -> FloatArray:
    """The Z' sum of eq. (8) over SiO2: sigma_Z'(Si28) + 2 sigma_Z'(O16) (§6)."""
    return z_Si + N_O_SIO2 * z_O


@shared
def scalar_over_zp(g_eff: FloatArray, br_vis: FloatArray, hadronic: FloatArray,
                   denominator: FloatArray | float) -> FloatArray:
    """g_eff^2 BR_vis x hadronic / denominator: R of eq. (7) or r of eq. (8) from their pieces (§5.1, §6)."""
    return g_eff**2 * br_vis * hadronic / denominator


@dataclass(frozen=True)
class _Tables:
    metadata: dict[str, Any]
    m_S_domain: tuple[float, float]
    m_nu4_domain: tuple[float, float]
    splines: dict[str, RectBivariateSpline]  # ln K over (ln m_S, m_nu4)
    charm_zp: dict[str, CubicSpline]  # ln sigma_Z' over m4
    scalars: dict[str, float]

    def K(self, name: str, m_S: FloatArray, m_nu4: FloatArray) -> FloatArray:
        return np.asarray(np.exp(self.splines[name].ev(np.log(m_S), m_nu4)), dtype=np.float64)


@cache
def load_tables() -> _Tables:
    """Read and spline the shipped tables (cached)."""
    with resources.files("physics.data").joinpath(TABLE_FILE).open("rb") as fh, np.load(fh) as npz:
        data = {k: npz[k] for k in npz.files}
    meta = json.loads(str(data.pop("metadata")))
    x, y = np.log(data.pop("m_S")), data.pop("m_nu4")
    splines = {k: RectBivariateSpline(x, y, np.log(v), kx=3, ky=3, s=0)
               for k, v in data.items() if v.ndim == 2}
    charm_zp = {k: CubicSpline(y, np.log(v)) for k, v in data.items() if v.ndim == 1}
    scalars = {k: float(v) for k, v in data.items() if v.ndim == 0}
    dom = meta["domain"]
    return _Tables(meta, tuple(dom["m_S"]), tuple(dom["m_nu4"]), splines, charm_zp, scalars)


def in_table_domain(p: ModelParams) -> NDArray[np.bool_]:
    """Mask of the points inside the table domain (m_S, m_nu4 ranges in the table metadata)."""
    t = load_tables()
    (s_lo, s_hi), (n_lo, n_hi) = t.m_S_domain, t.m_nu4_domain
    return np.asarray(inside(p.m_S, s_lo, s_hi) & inside(p.m_nu4, n_lo, n_hi))


def _require_domain(p: ModelParams) -> None:
    t = load_tables()
    for name, values, (lo, hi) in (("m_S", p.m_S, t.m_S_domain), ("m_nu4", p.m_nu4, t.m_nu4_domain)):
        bad = ~inside(values, lo, hi)
        if np.any(bad):
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} outside the scattering-table domain [{lo * 1e3:g}, {hi * 1e3:g}] MeV at "
                f"{int(bad.sum())} of {bad.size} points (first: index {first}, {name} = "
                f"{values[first] * 1e3:.6g} MeV); select points with physics.miniboone.in_table_domain "
                "or use r_miniboone_direct")


def _couplings(p: ModelParams, options: TheoryOptions) -> tuple[FloatArray, FloatArray, FloatArray]:
    g_Sp, g_Sn = scalar_nucleon_couplings(p.eta_d, p.eta_c, p.eta_t, options)
    return g_eff(p.g_D, p.U_mu4), g_Sp, g_Sn


def _zp_prefactor(options: TheoryOptions, U: float) -> float:
    """g_eff'^2 e^2 eps^2 with g_D'^2 = 4 pi alpha_D and e^2 eps^2 = 4 pi alpha eps^2 (§4.1, §5.3)."""
    g_eff_zp = float(g_eff(np.sqrt(4.0 * np.pi * options.zp_alpha_D), U)[()])
    return g_eff_zp**2 * 4.0 * np.pi * options.zp_alpha_eps2


@cache
def _zp_miniboone_integrals(m4: float, m_Zp: float, nuclear_ff: str) -> tuple[float, float]:
    """(J_C12, J_p) [GeV^-2 nu/cm^2/POT]: tabulated at the default Z' point, else direct quadrature
    (one constant per option set, cached)."""
    t = load_tables()
    if m4 == t.metadata["zp_m4"] and m_Zp == t.metadata["zp_m_Zp"]:
        return t.scalars["zp_K_C12" + _ff_suffix(nuclear_ff)], t.scalars["zp_K_p"]
    LOG.info("Z' MiniBooNE integrals at m4 = %g GeV, m_Zp = %g GeV by direct quadrature", m4, m_Zp)
    return (float(flux_folded("zp", m4, m_Zp, CARBON12, nuclear_ff=nuclear_ff)[0]),
            float(flux_folded("zp", m4, m_Zp, PROTON)[0]))


def _zp_targets(J_C: float, J_p: float, options: TheoryOptions) -> float:
    """J_C (coherent only) or J_C + 8 J_p (coherent + incoherent), per CH2 (§5.1, §5.6 convention 1)."""
    if options.zp_denominator == "coherent":
        return J_C
    if options.zp_denominator == "coherent+incoherent":
        return J_C + N_PROTONS_CH2 * J_p
    raise ValueError(f"unknown zp_denominator {options.zp_denominator!r}; "
                     "choose 'coherent' or 'coherent+incoherent'")


def zp_denominator(options: TheoryOptions | None = None, flux: Flux | None = None) -> float:
    """D_Z' = g_eff'^2 e^2 eps^2 (J_C [+ 8 J_p]) B(Z'->ee) [GeV^-2 nu/cm^2/POT per CH2], B = 1.

    docs/physics/g2-scattering.md §5.1, §5.3, §5.6: coherent + incoherent with the Lewin-Smith form
    factor, 4.889e-22 at m4 = 420 MeV, |U_mu4|^2 = 9e-7; ``options.zp_denominator`` = "coherent" keeps
    J_C only; ``options.nuclear_form_factor`` selects the Helm parametrisation. With ``flux`` given, the
    integrals are computed directly with that flux (no table, no cache).
    """
    opts = options or TheoryOptions()
    ff = str(opts.nuclear_form_factor)
    if flux is None:
        J_C, J_p = _zp_miniboone_integrals(opts.zp_m4, opts.zp_m_Zp, ff)
    else:
        J_C = float(flux_folded("zp", opts.zp_m4, opts.zp_m_Zp, CARBON12, flux, nuclear_ff=ff)[0])
        J_p = float(flux_folded("zp", opts.zp_m4, opts.zp_m_Zp, PROTON, flux)[0])
    return _zp_prefactor(opts, float(np.sqrt(opts.zp_U2))) * _zp_targets(J_C, J_p, opts)


def _miniboone_ratio(p: ModelParams, br_vis: ArrayLike, options: TheoryOptions, K_C: FloatArray,
                     K_p: FloatArray, K_n: FloatArray, denominator: float) -> FloatArray:
    ge, g_Sp, g_Sn = _couplings(p, options)
    return np.asarray(scalar_over_zp(ge, np.asarray(br_vis, dtype=np.float64),
                                     miniboone_hadronic(g_Sp, g_Sn, K_C, K_p, K_n), denominator), dtype=np.float64)


def _normalise(R_abs: FloatArray, options: TheoryOptions) -> FloatArray:
    if options.r_normalisation in ("recast", "absolute"):
        return R_abs
    if options.r_normalisation == "calibrated":
        return np.asarray(R_abs / calibration_factor(options), dtype=np.float64)
    raise ValueError(f"unknown r_normalisation {options.r_normalisation!r}; "
                     "choose 'recast', 'absolute' or 'calibrated'")


def miniboone_table_names(options: TheoryOptions) -> tuple[str, str, str]:
    """Names of the K_C12, K_p, K_n tables at these conventions."""
    nff = "" if options.nucleon_ff_incoherent else "_noff"
    return "K_C12" + _ff_suffix(str(options.nuclear_form_factor)), "K_p" + nff, "K_n" + nff


def r_miniboone(p: ModelParams, br_vis: ArrayLike, options: TheoryOptions | None = None) -> FloatArray:
    """MiniBooNE ratio R of paper eq. (7) from the tables, per point (dimensionless, shape (N,)).

    docs/physics/g2-scattering.md §5.1, §5.6, §7. br_vis = BR(S->ee) + BR(S->gamma gamma) (from
    physics.decays). ``options.r_normalisation``: "recast" or "absolute" (as computed) or "calibrated"
    (R divided by :func:`calibration_factor`); the nuclear form factor, the Z' denominator and the nucleon
    form factor of the incoherent part are options too (:class:`TheoryOptions`).
    Raises ValueError outside the table domain (see the module docstring).
    """
    opts = options or TheoryOptions()
    _require_domain(p)
    t = load_tables()
    name_C, name_p, name_n = miniboone_table_names(opts)
    K_C = t.K(name_C, p.m_S, p.m_nu4)
    K_p = t.K(name_p, p.m_S, p.m_nu4)
    K_n = t.K(name_n, p.m_S, p.m_nu4)
    R_abs = _miniboone_ratio(p, br_vis, opts, K_C, K_p, K_n, zp_denominator(opts))
    return _normalise(R_abs, opts)


def r_miniboone_direct(p: ModelParams, br_vis: ArrayLike, options: TheoryOptions | None = None,
                       flux: Flux | None = None) -> FloatArray:
    """R of eq. (7) by direct quadrature of every flux integral (slow reference, ~0.1 s per point).

    Same physics as :func:`r_miniboone`, no table and no domain restriction; ``flux`` replaces the
    MiniBooNE nu_mu flux in numerator and denominator (R does not depend on its normalisation).
    The "calibrated" normalisation divides by the table-based :func:`calibration_factor`.
    """
    opts = options or TheoryOptions()
    ff, nff = bool(opts.nucleon_ff_incoherent), str(opts.nuclear_form_factor)
    K_C = flux_folded("scalar", p.m_nu4, p.m_S, CARBON12, flux, nuclear_ff=nff)
    K_p = flux_folded("scalar", p.m_nu4, p.m_S, PROTON, flux, nucleon_ff=ff)
    K_n = flux_folded("scalar", p.m_nu4, p.m_S, NEUTRON, flux, nucleon_ff=ff)
    R_abs = _miniboone_ratio(p, br_vis, opts, K_C, K_p, K_n, zp_denominator(opts, flux))
    return _normalise(R_abs, opts)


@cache
def _calibration(options: TheoryOptions) -> float:
    bps = all_benchmarks()
    R = r_miniboone(bps, s_widths(bps).br_vis, options)
    return float(np.exp(np.mean(np.log(R))))


def calibration_factor(options: TheoryOptions | None = None) -> float:
    """Geometric mean over BP1-BP7 of R as computed (no constant) with these options' conventions
    (cached per options).

    docs/physics/README.md item 9: the "calibrated" R divides the R as computed by this number, i.e. the
    Z' denominator D_Z' is rescaled to D_Z' * calibration_factor so that the geometric mean of R over
    the seven benchmark points of the paper's Table II is 1. Computed from the BPs, never typed in, and
    reported under every convention (1 / calibration_factor is the constant R would need; about 1.01
    under "recast", 1.75 under "absolute").
    """
    opts = options or TheoryOptions()
    # the same conventions with no constant: replace() keeps them (with_ would reset them to a preset)
    return _calibration(replace(opts, r_normalisation="absolute"))


def _charm_names(options: TheoryOptions) -> tuple[tuple[str, str], tuple[str, str]]:
    """((scalar Si28, scalar O16), (Z' Si28, Z' O16)) table names at these options' form factor."""
    sfx = _ff_suffix(str(options.nuclear_form_factor))
    return ((f"charm_S_{SILICON28.name}{sfx}", f"charm_S_{OXYGEN16.name}{sfx}"),
            (f"charm_Zp_{SILICON28.name}{sfx}", f"charm_Zp_{OXYGEN16.name}{sfx}"))


def _charm_zp_sigma(target: Target, m4: FloatArray, options: TheoryOptions) -> FloatArray:
    _require_tabulated(options)
    name = _charm_names(options)[1][0 if target is SILICON28 else 1]
    return np.asarray(np.exp(load_tables().charm_zp[name](m4)), dtype=np.float64)


def _charm_scalar_sigma(target: Target, p: ModelParams, options: TheoryOptions) -> FloatArray:
    _require_tabulated(options)
    name = _charm_names(options)[0][0 if target is SILICON28 else 1]
    return load_tables().K(name, p.m_S, p.m_nu4)


def r_charm2_direct(p: ModelParams, br_vis: ArrayLike, options: TheoryOptions | None = None) -> FloatArray:
    """CHARM-II ratio of eq. (8) by direct quadrature at options.charm_E (slow reference, no tables)."""
    opts = options or TheoryOptions()
    nff = str(opts.nuclear_form_factor)
    ge, g_Sp, g_Sn = _couplings(p, opts)
    sig = {t.name: (sigma_at_energy("scalar", opts.charm_E, p.m_nu4, p.m_S, t, nuclear_ff=nff),
                    sigma_at_energy("zp", opts.charm_E, p.m_nu4, opts.zp_m_Zp, t, nuclear_ff=nff))
           for t in (SILICON28, OXYGEN16)}
    num = charm_hadronic(g_Sp, g_Sn, sig["Si28"][0], sig["O16"][0])
    den = _zp_prefactor(opts, opts.charm_U) * charm_zp(sig["Si28"][1], sig["O16"][1])
    return np.asarray(scalar_over_zp(ge, np.asarray(br_vis, dtype=np.float64), num, den), dtype=np.float64)


def r_charm2(p: ModelParams, br_vis: ArrayLike, options: TheoryOptions | None = None) -> FloatArray:
    """CHARM-II ratio of paper eq. (8) at E_nu = options.charm_E, per point (dimensionless, shape (N,)).

    docs/physics/g2-scattering.md §6: coherent scattering on glass as SiO2 (Si28 + 2 O16, Helm form factors
    of ``options.nuclear_form_factor``, as MiniBooNE's R),
    r = g_eff^2 BR_vis sum_t n_t g_SA,t^2 sigma_S,t / [g_eff'^2 e^2 eps^2 sum_t n_t sigma_Z',t], the Z'
    reference with |U_mu4| = options.charm_U and its m4 tied to the point's m_nu4. Never calibrated.
    Raises ValueError outside the table domain, UntabulatedOptionError for charm_E or zp_m_Zp other than
    the tabulated ones (:func:`r_charm2_direct` computes those).
    """
    opts = options or TheoryOptions()
    _require_domain(p)
    ge, g_Sp, g_Sn = _couplings(p, opts)
    num = charm_hadronic(g_Sp, g_Sn, _charm_scalar_sigma(SILICON28, p, opts), _charm_scalar_sigma(OXYGEN16, p, opts))
    den = _zp_prefactor(opts, opts.charm_U) * charm_zp(_charm_zp_sigma(SILICON28, p.m_nu4, opts),
                                                       _charm_zp_sigma(OXYGEN16, p.m_nu4, opts))
    return np.asarray(scalar_over_zp(ge, np.asarray(br_vis, dtype=np.float64), num, den), dtype=np.float64)


# ---------------------------------------------------------------------------- fast path of the tables

class SplinePieces:
    """Several of the tables' bicubic splines of ln K over (ln m_S, m_nu4) as local polynomials, for speed.

    Within one knot cell a tensor-product cubic spline is one bicubic polynomial; its 16 coefficients (in
    powers of the distance to the cell's lower corner, converted exactly from the B-spline coefficients) are
    stored per cell and table, so an evaluation is one cell lookup shared by all tables plus a 16-term dot
    product. Arguments
    beyond the knot range are clamped, as FITPACK does. Agrees with ``RectBivariateSpline.ev`` to rounding
    (~1e-15 relative in K).
    """

    def __init__(self, names: tuple[str, ...]):
        t = load_tables()
        splines = [t.splines[n] for n in names]
        tx, ty = splines[0].get_knots()
        for s in splines[1:]:
            kx, ky = s.get_knots()
            if not (np.array_equal(kx, tx) and np.array_equal(ky, ty)):
                raise ValueError("SplinePieces needs splines on one knot grid")
        self.names = names
        self.x_edges, self.y_edges = np.unique(tx), np.unique(ty)
        keep_x, keep_y = np.flatnonzero(np.diff(tx) > 0), np.flatnonzero(np.diff(ty) > 0)
        nx, ny = self.x_edges.size - 1, self.y_edges.size - 1
        coef = np.empty((nx, ny, len(splines), 4, 4))  # [cell x, cell y, table, power of dx, power of dy]
        for i, s in enumerate(splines):
            c = s.get_coeffs().reshape(tx.size - 4, ty.size - 4)
            # along x for each B-spline coefficient in y, then along y for each x power and x cell
            along_x = np.stack([PPoly.from_spline((tx, c[:, j], 3)).c[:, keep_x] for j in range(c.shape[1])],
                               axis=-1)  # (4 [power 3..0], nx, coefficients in y)
            for a in range(4):
                for ix in range(nx):
                    pp = PPoly.from_spline((ty, along_x[3 - a, ix], 3)).c[:, keep_y]  # (4 [power 3..0], ny)
                    coef[ix, :, i, a, :] = pp[::-1].T
        self.coef = coef.reshape(nx * ny, len(splines), 16)


class CubicPieces:
    """The CHARM-II Z' cubic splines of ln sigma over m_nu4 as local cubics (scipy's own PPoly coefficients,
    extrapolating beyond the ends as CubicSpline does)."""

    def __init__(self, names: tuple[str, ...]):
        t = load_tables()
        splines = [t.charm_zp[n] for n in names]
        self.x = splines[0].x
        self.coef = np.stack([s.c for s in splines], axis=-1)  # (4, intervals, tables)


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
def ln_pieces_2d(coef: FloatArray, x_edges: FloatArray, y_edges: FloatArray, x: float, y: float,
                 out: FloatArray) -> None:
    """ln K of every table of a :class:`SplinePieces` (its ``coef``, ``x_edges``, ``y_edges``) at one point,
    x = ln m_S, y = m_nu4 (GeV), written to out[:tables]; arguments beyond the knots are clamped as FITPACK
    does. Agrees with ``RectBivariateSpline.ev`` to rounding; compiled where numba is on."""
    x = min(max(x, x_edges[0]), x_edges[x_edges.size - 1])
    y = min(max(y, y_edges[0]), y_edges[y_edges.size - 1])
    ix, iy = _cell(x_edges, x), _cell(y_edges, y)
    dx, dy = x - x_edges[ix], y - y_edges[iy]
    dy2 = dy * dy
    dy3 = dy2 * dy
    dx2 = dx * dx
    dx3 = dx2 * dx
    cell = ix * (y_edges.size - 1) + iy
    for j in range(coef.shape[1]):
        r = coef[cell, j]
        out[j] = (r[0] + r[1] * dy + r[2] * dy2 + r[3] * dy3 + r[4] * dx + r[5] * (dx * dy)
                  + r[6] * (dx * dy2) + r[7] * (dx * dy3) + r[8] * dx2 + r[9] * (dx2 * dy)
                  + r[10] * (dx2 * dy2) + r[11] * (dx2 * dy3) + r[12] * dx3 + r[13] * (dx3 * dy)
                  + r[14] * (dx3 * dy2) + r[15] * (dx3 * dy3))


@jit
def ln_pieces_1d(coef: FloatArray, x: FloatArray, y: float, out: FloatArray) -> None:
    """ln sigma of every table of a :class:`CubicPieces` (its ``coef``, knots ``x``) at m_nu4 = y, written to
    out[:tables] (extrapolating beyond the ends as CubicSpline does); compiled where numba is on."""
    i = _cell(x, y)
    d = y - x[i]
    for k in range(coef.shape[2]):
        out[k] = ((coef[0, i, k] * d + coef[1, i, k]) * d + coef[2, i, k]) * d + coef[3, i, k]


def fast_table_names(options: TheoryOptions) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names of the 2-D tables (MiniBooNE K_C12, K_p, K_n; CHARM-II Si28, O16) and of the 1-D CHARM-II Z'
    tables the fast path reads at these options; raises UntabulatedOptionError where none is shipped."""
    _require_tabulated(options)
    charm_S, charm_Zp = _charm_names(options)
    return (*miniboone_table_names(options), *charm_S), charm_Zp
