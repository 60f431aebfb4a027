"""Theory choices the paper leaves open, gathered in one frozen record.

The defaults are the "paper" scenario of ``docs/physics/README.md`` (decisions 1-10). A run file
or the CLI selects a named scenario and may override single fields; nothing else in the code reads
flags of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from physics.constants import CONST

KLConvention = Literal["re", "im", "abs"]
RNormalisation = Literal["recast", "absolute", "calibrated"]
NuclearFormFactor = Literal["engel", "lewin_smith"]
ZpDenominator = Literal["coherent", "coherent+incoherent"]

# The conventions of MiniBooNE's R (eq. 7) that each r_normalisation implies unless set explicitly:
# (nuclear_form_factor, zp_denominator, nucleon_ff_incoherent); docs/physics/g2-scattering.md §5.5-5.6.
R_PRESETS: dict[str, tuple[str, str, bool]] = {
    "recast": ("engel", "coherent", False),
    "absolute": ("lewin_smith", "coherent+incoherent", True),
    "calibrated": ("lewin_smith", "coherent+incoherent", True),
}
_R_CONVENTION_FIELDS = ("nuclear_form_factor", "zp_denominator", "nucleon_ff_incoherent")


@dataclass(frozen=True)
class TheoryOptions:
    """Options of the theory predictions.

    kl_convention: which part of g_sd drives K_L -> pi0 S: "re" (CP-conserving, physical, paper),
        "im" or "abs" (for comparison only; docs/physics/flavour.md §4.2).
    r_normalisation: how MiniBooNE's R (eq. 7) is normalised, and the preset of its three conventions
        (docs/physics/README.md item 9, docs/physics/g2-scattering.md §5.6): "recast" (default; Engel
        Helm form factor, Z' denominator coherent on C12 only, point-like nucleons; no constant),
        "absolute" (Lewin-Smith Helm, Z' coherent + incoherent, dipole nucleons; no constant) or
        "calibrated" (the conventions of "absolute", Z' denominator rescaled so that the geometric mean
        of R over BP1-BP7 is 1).
    nuclear_form_factor: Helm parametrisation of the nuclei, "engel" or "lewin_smith", in the scalar
        numerator, the Z' denominator and CHARM-II alike (None: the preset of r_normalisation).
    zp_denominator: "coherent" (C12 only, as arXiv:1812.08768 and GENIE's Bertuzzo et al. model) or
        "coherent+incoherent" (C12 + 8 protons per CH2) (None: the preset).
    zp_m_Zp, zp_alpha_D, zp_alpha_eps2: the Z' reference point of Bertuzzo et al. (arXiv:1807.09877)
        quoted by the paper (30 MeV, 0.25, 2e-10).
    zp_m4, zp_U2: m_N [GeV] and |U_mu4|^2 of that benchmark; not restated by the paper; confirmed by
        M. Hostert's PhD thesis, which restates Bertuzzo et al. (docs/physics/g2-scattering.md §5.3).
    charm_U: |U_mu4| of the CHARM-II Z' reference (paper, eq. 8).
    charm_E: neutrino energy [GeV] of the CHARM-II comparison (paper, eq. 8).
    nucleon_ff_incoherent: dipole form factor on the incoherent (nucleon) scalar scattering (None: the
        preset of r_normalisation).
    fTu_p, fTd_p, fTu_n, fTd_n, fTs: scalar quark contents of proton and neutron (nucleon sigma terms
        over m_N); defaults from constants.yaml (sigma_piN = 59.1 MeV, arXiv:1506.04142 + 1312.4951;
        f_Ts from arXiv:1301.1114). R moves by -35 %/+40 % for f_Ts -/+ 0.02
        (docs/physics/g2-scattering.md §3).
    g2_two_loop_bz: add the model's own two-loop Barr-Zee fermion loops to Delta a_l (off in the paper).
    g2_kappa_finite: add the MSbar finite part of the kappa loop to the leading log (off in the paper).
    """

    kl_convention: KLConvention = "re"
    r_normalisation: RNormalisation = "recast"
    nuclear_form_factor: NuclearFormFactor | None = None
    zp_denominator: ZpDenominator | None = None
    zp_m_Zp: float = 0.030
    zp_alpha_D: float = 0.25
    zp_alpha_eps2: float = 2e-10
    zp_m4: float = 0.420
    zp_U2: float = 9e-7
    charm_U: float = 1e-4
    charm_E: float = 20.0
    nucleon_ff_incoherent: bool | None = None
    fTu_p: float = CONST.fTu_p
    fTd_p: float = CONST.fTd_p
    fTu_n: float = CONST.fTu_n
    fTd_n: float = CONST.fTd_n
    fTs: float = CONST.fTs
    g2_two_loop_bz: bool = False
    g2_kappa_finite: bool = False

    def __post_init__(self) -> None:
        if self.r_normalisation not in R_PRESETS:
            raise ValueError(f"unknown r_normalisation {self.r_normalisation!r}; choose one of "
                             f"{', '.join(R_PRESETS)}")
        for name, preset in zip(_R_CONVENTION_FIELDS, R_PRESETS[self.r_normalisation], strict=True):
            if getattr(self, name) is None:
                object.__setattr__(self, name, preset)

    def with_(self, **changes: Any) -> TheoryOptions:
        """A copy with fields changed; a new r_normalisation brings its own preset of the R conventions
        unless they are changed too."""
        if "r_normalisation" in changes:
            changes = {**{f: None for f in _R_CONVENTION_FIELDS}, **changes}
        return replace(self, **changes)

    @property
    def r_conventions(self) -> str:
        """One line naming the conventions of R (for output)."""
        return (f"r_normalisation={self.r_normalisation}, nuclear_form_factor={self.nuclear_form_factor}, "
                f"zp_denominator={self.zp_denominator}, nucleon_ff_incoherent={self.nucleon_ff_incoherent}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


SCENARIOS: dict[str, TheoryOptions] = {
    "paper": TheoryOptions(),
    "absolute": TheoryOptions(r_normalisation="absolute"),
    "calibrated": TheoryOptions(r_normalisation="calibrated"),
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
    return SCENARIOS[name].with_(**overrides) if overrides else SCENARIOS[name]
