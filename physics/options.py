"""Theory choices the paper leaves open, gathered in one frozen record.

The defaults are the "paper" scenario of ``../shared/physics/README.md`` (decisions 1-10). A run file
or the CLI selects a named scenario and may override single fields; nothing else in the code reads
flags of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from physics.constants import CONST

KLConvention = Literal["re", "im", "abs"]
RNormalisation = Literal["calibrated", "absolute"]


@dataclass(frozen=True)
class TheoryOptions:
    """Options of the theory predictions.

    kl_convention: which part of g_sd drives K_L -> pi0 S: "re" (CP-conserving, physical, paper),
        "im" or "abs" (for comparison only; flavour.md §4.2).
    r_normalisation: "calibrated" (Z' denominator rescaled so that the geometric mean of R over
        BP1-BP7 is 1) or "absolute" (as computed); physics/README.md item 9.
    zp_m_Zp, zp_alpha_D, zp_alpha_eps2: the Z' reference point of Bertuzzo et al. (arXiv:1807.09877)
        quoted by the paper (30 MeV, 0.25, 2e-10).
    zp_m4, zp_U2: m_N [GeV] and |U_mu4|^2 of that benchmark; not restated by the paper, unverified
        (g2-scattering.md §5.3).
    charm_U: |U_mu4| of the CHARM-II Z' reference (paper, eq. 8).
    charm_E: neutrino energy [GeV] of the CHARM-II comparison (paper, eq. 8).
    nucleon_ff_incoherent: dipole form factor on the incoherent (nucleon) scalar scattering.
    fTu_p, fTd_p, fTu_n, fTd_n, fTs: scalar quark contents of proton and neutron (nucleon sigma terms
        over m_N); defaults from constants.yaml (sigma_piN = 59.1 MeV, arXiv:1506.04142 + 1312.4951;
        f_Ts from arXiv:1301.1114). R moves by -35 %/+40 % for f_Ts -/+ 0.02 (g2-scattering.md §3).
    g2_two_loop_bz: add the model's own two-loop Barr-Zee fermion loops to Delta a_l (off in the paper).
    g2_kappa_finite: add the MSbar finite part of the kappa loop to the leading log (off in the paper).
    """

    kl_convention: KLConvention = "re"
    r_normalisation: RNormalisation = "calibrated"
    zp_m_Zp: float = 0.030
    zp_alpha_D: float = 0.25
    zp_alpha_eps2: float = 2e-10
    zp_m4: float = 0.420
    zp_U2: float = 9e-7
    charm_U: float = 1e-4
    charm_E: float = 20.0
    nucleon_ff_incoherent: bool = True
    fTu_p: float = CONST.fTu_p
    fTd_p: float = CONST.fTd_p
    fTu_n: float = CONST.fTu_n
    fTd_n: float = CONST.fTd_n
    fTs: float = CONST.fTs
    g2_two_loop_bz: bool = False
    g2_kappa_finite: bool = False

    def with_(self, **changes: Any) -> TheoryOptions:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


SCENARIOS: dict[str, TheoryOptions] = {
    "paper": TheoryOptions(),
    "absolute": TheoryOptions(r_normalisation="absolute"),
    # the paper's choices with the model's own two-loop Barr-Zee terms and the kappa-loop finite part
    "full_g2": TheoryOptions(g2_two_loop_bz=True, g2_kappa_finite=True),
}


def scenario(name: str, **overrides: Any) -> TheoryOptions:
    """The named scenario with optional field overrides; errors name the bad key."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown theory scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    bad = set(overrides) - set(TheoryOptions.field_names())
    if bad:
        raise KeyError(f"unknown theory option(s) {sorted(bad)}; known: {', '.join(TheoryOptions.field_names())}")
    return SCENARIOS[name].with_(**overrides)
