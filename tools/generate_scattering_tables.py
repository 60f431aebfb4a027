#!/usr/bin/env python
"""Build the MiniBooNE flux file and the coupling-stripped scattering tables shipped in physics/data.

Reads the BNB nu_mu flux (MiniBooNE, arXiv:0806.1449) as shipped by the pip package DarkNews 0.4.8
(``DarkNews/include/fluxes/MiniBooNE_FHC.dat``, column 2 = nu_mu, ``# nus/cm^2/POT/GeV``), either from
an installed DarkNews or from its sdist (``pip download --no-deps darknews==0.4.8 -d DIR``), and writes

* ``physics/data/miniboone_numu_flux.csv``: E [GeV], phi_numu [nu/cm^2/POT/GeV];
* ``physics/data/scattering_tables.npz``: the flux integrals K_t(m_S, m_nu4) of
  docs/physics/g2-scattering.md §7 for C12 (coherent, with each Helm parametrisation of §4.5/§5.6), p and
  n (with and without the nucleon dipole form factor) on a grid in (ln m_S, m_nu4); the CHARM-II coherent
  scalar cross sections on Si28 and O16 at E = charm_E on the same grid; the CHARM-II Z' cross sections
  as 1-D tables in m4; the MiniBooNE Z' integrals at the default Z' point; and the grid metadata
  (generator, flux sha256, grid spec). Tables of the Lewin-Smith form factor carry no suffix, the others
  ``_<model>`` (``K_C12_engel``).

The CHARM-II comparison (paper eq. 8) is at a single energy, so no CHARM-II flux is read.

Usage: ``python tools/generate_scattering_tables.py [--darknews-sdist PATH] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import sys
import tarfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

from physics.options import TheoryOptions
from physics.scattering import (
    CARBON12,
    FLUX_FILE,
    N_E_DEFAULT,
    N_T_DEFAULT,
    N_T_SINGLE_E,
    NEUTRON,
    NUCLEAR_FORM_FACTORS,
    OXYGEN16,
    PROTON,
    SILICON28,
    Flux,
    Target,
    flux_folded,
    flux_folded_grid,
    numerator_for,
    recoil_grid,
    sigma_at_energy,
)

LOG = logging.getLogger("generate_scattering_tables")
GENERATOR = "tools/generate_scattering_tables.py"
TABLE_FILE = "scattering_tables.npz"
DARKNEWS_FLUX = "DarkNews/include/fluxes/MiniBooNE_FHC.dat"
NUMU_COLUMN = 2  # column order of DarkNews/detector.py: E, nue, numu, nutau, nuebar, numubar, nutaubar
FLUX_UNITS_HEADER = "# nus/cm^2/POT/GeV"
FLUX_SOURCE = ("MiniBooNE BNB nu_mu flux, neutrino mode, Aguilar-Arevalo et al., PRD 79, 072002 (2009), "
               "arXiv:0806.1449; file include/fluxes/MiniBooNE_FHC.dat of DarkNews 0.4.8 (column 2)")

# domain the tables must cover [GeV] (docs/physics/README.md; prior ranges of the paper), and the grid
DOMAIN_M_S = (0.010, 0.150)
DOMAIN_M_NU4 = (0.400, 0.700)
GRID_M_S = (0.009, 0.165, 49)  # log-spaced, slightly beyond the domain so the spline has no edge effect
GRID_M_NU4 = (0.390, 0.710, 41)  # linear


def read_darknews_flux(sdist: Path | None) -> bytes:
    """Raw bytes of MiniBooNE_FHC.dat from the sdist tarball or from an installed DarkNews."""
    if sdist is not None:
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                if member.name.endswith(DARKNEWS_FLUX):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        return handle.read()
        raise SystemExit(f"{sdist}: no member ending in {DARKNEWS_FLUX}")
    try:
        return resources.files("DarkNews.include.fluxes").joinpath("MiniBooNE_FHC.dat").read_bytes()
    except ModuleNotFoundError:
        raise SystemExit("DarkNews is not installed; fetch its sdist with "
                         "`.venv/bin/pip download --no-deps darknews==0.4.8 -d DIR` and pass "
                         "--darknews-sdist DIR/darknews-0.4.8.tar.gz") from None


def parse_flux(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    text = raw.decode("utf-8")
    if not text.startswith(FLUX_UNITS_HEADER):
        raise SystemExit(f"unexpected flux header {text.splitlines()[0]!r}; expected {FLUX_UNITS_HEADER!r}")
    data = np.loadtxt(io.StringIO(text))
    return data[:, 0], data[:, NUMU_COLUMN]


def write_flux_csv(path: Path, E: np.ndarray, phi: np.ndarray, sha256: str) -> None:
    lines = [
        f"# source: {FLUX_SOURCE}",
        f"# sha256 of MiniBooNE_FHC.dat: {sha256}",
        "# units: E in GeV (bin centre, 50 MeV bins), phi_numu in nu/cm^2/POT/GeV",
        f"# generator: {GENERATOR}",
        "E_GeV,phi_numu",
        *(f"{float(e)!r},{float(p)!r}" for e, p in zip(E, phi, strict=True)),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def suffix(model: str) -> str:
    """Table-name suffix of a nuclear form factor model (the Lewin-Smith tables carry none)."""
    return "" if model == "lewin_smith" else f"_{model}"


def miniboone_tables(m_S: np.ndarray, m4: np.ndarray, flux: Flux) -> dict[str, np.ndarray]:
    """K_t(m_S, m4) [GeV^-2 nu/cm^2/POT] on the grid; one quadrature grid per (target, m4) serves all
    m_S because only the propagator depends on m_S (docs/physics/g2-scattering.md §7)."""
    variants: dict[str, tuple[Target, list[tuple[str, bool, str]]]] = {
        "C12": (CARBON12, [("K_C12" + suffix(ff), True, ff) for ff in NUCLEAR_FORM_FACTORS]),
        "p": (PROTON, [("K_p", True, "lewin_smith"), ("K_p_noff", False, "lewin_smith")]),
        "n": (NEUTRON, [("K_n", True, "lewin_smith"), ("K_n_noff", False, "lewin_smith")]),
    }
    out = {name: np.empty((m_S.size, m4.size)) for _, v in variants.values() for name, _, _ in v}
    for j, m in enumerate(m4):
        for target, names in variants.values():
            E, T, w = (a.ravel() for a in flux_folded_grid(m, target, flux, N_E_DEFAULT, N_T_DEFAULT))
            A = np.stack([w * numerator_for("scalar", target, ff, nff)(E, T, np.full_like(E, m))
                          for _, ff, nff in names])
            prop = 1.0 / (2.0 * target.mass * T[None, :] + m_S[:, None] ** 2) ** 2
            K = prop @ A.T
            for k, (name, _, _) in enumerate(names):
                out[name][:, j] = K[:, k]
    return out


def charm_tables(m_S: np.ndarray, m4: np.ndarray, E: float, m_Zp: float) -> dict[str, np.ndarray]:
    """Coupling-stripped sigma(E) [GeV^-2] on Si28 and O16: scalar on the (m_S, m4) grid, Z' in m4."""
    out: dict[str, np.ndarray] = {}
    for target in (SILICON28, OXYGEN16):
        T, w = recoil_grid(np.full(m4.size, E), m4, target, N_T_SINGLE_E)  # (n4, nT)
        prop = 1.0 / (2.0 * target.mass * T[None, :, :] + m_S[:, None, None] ** 2) ** 2
        for nff in NUCLEAR_FORM_FACTORS:
            num = numerator_for("scalar", target, True, nff)(np.full_like(T, E), T,
                                                             np.broadcast_to(m4[:, None], T.shape))
            out[f"charm_S_{target.name}{suffix(nff)}"] = np.sum(prop * (w * num)[None], axis=-1)
            out[f"charm_Zp_{target.name}{suffix(nff)}"] = sigma_at_energy("zp", E, m4, m_Zp, target,
                                                                          nuclear_ff=nff)
    return out


def build(flux: Flux, flux_sha256: str) -> dict[str, np.ndarray]:
    opts = TheoryOptions()
    m_S = np.geomspace(GRID_M_S[0], GRID_M_S[1], GRID_M_S[2])
    m4 = np.linspace(*GRID_M_NU4)
    t0 = time.perf_counter()
    tables = miniboone_tables(m_S, m4, flux)
    LOG.info("MiniBooNE tables: %.1f s", time.perf_counter() - t0)
    tables |= charm_tables(m_S, m4, opts.charm_E, opts.zp_m_Zp)
    for nff in NUCLEAR_FORM_FACTORS:
        tables["zp_K_C12" + suffix(nff)] = np.array(
            flux_folded("zp", opts.zp_m4, opts.zp_m_Zp, CARBON12, flux, nuclear_ff=nff)[0])
    tables["zp_K_p"] = np.array(flux_folded("zp", opts.zp_m4, opts.zp_m_Zp, PROTON, flux)[0])
    meta = {
        "generator": GENERATOR,
        "flux_file": FLUX_FILE,
        "flux_source": FLUX_SOURCE,
        "flux_sha256": flux_sha256,
        "units": {"K": "GeV^-2 nu/cm^2/POT (couplings stripped)", "charm": "GeV^-2 (couplings stripped)",
                  "masses": "GeV"},
        "grid": {"m_S": {"spacing": "log", "min": GRID_M_S[0], "max": GRID_M_S[1], "n": GRID_M_S[2]},
                 "m_nu4": {"spacing": "linear", "min": GRID_M_NU4[0], "max": GRID_M_NU4[1],
                           "n": GRID_M_NU4[2]}},
        "domain": {"m_S": list(DOMAIN_M_S), "m_nu4": list(DOMAIN_M_NU4)},
        "quadrature": {"n_E": N_E_DEFAULT, "n_T": N_T_DEFAULT, "n_T_single_E": N_T_SINGLE_E},
        "nuclear_form_factors": list(NUCLEAR_FORM_FACTORS),
        "charm_E": opts.charm_E,
        "zp_m_Zp": opts.zp_m_Zp,
        "zp_m4": opts.zp_m4,
    }
    return {"m_S": m_S, "m_nu4": m4, **tables, "metadata": np.array(json.dumps(meta, sort_keys=True))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--darknews-sdist", type=Path, default=None,
                        help="darknews-0.4.8.tar.gz (default: read an installed DarkNews)")
    parser.add_argument("--out-dir", type=Path,
                        default=Path(__file__).resolve().parents[1] / "physics" / "data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    raw = read_darknews_flux(args.darknews_sdist)
    sha = hashlib.sha256(raw).hexdigest()
    E, phi = parse_flux(raw)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_flux_csv(args.out_dir / FLUX_FILE, E, phi, sha)
    flux = Flux.from_bin_centres(E, phi)
    LOG.info("flux: %d bins, integral %.4e nu/cm^2/POT, sha256 %s", E.size, flux.integral(), sha)
    t0 = time.perf_counter()
    arrays = build(flux, sha)
    np.savez_compressed(args.out_dir / TABLE_FILE, allow_pickle=False, **arrays)
    size = (args.out_dir / TABLE_FILE).stat().st_size
    LOG.info("wrote %s (%.0f kB) in %.1f s", args.out_dir / TABLE_FILE, size / 1e3, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
