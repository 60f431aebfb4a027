"""The observable registry: one explicit mapping name -> Observable, and ``predict``.

Each observable is a pure function of a :class:`Context` (the parameter points, the theory options and the
intermediate quantities they share, each computed once per call). Names follow the paper's Table I.
Every observable returns its new-physics part; where the Standard Model has a value
(``physics/data/sm_predictions.yaml``) the prediction also carries SM and SM + NP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from physics import bmeson, couplings, g2, kaon, miniboone, observables
from physics.constants import CONST, SMPrediction, load_sm_predictions
from physics.decays import width_nu4
from physics.domain import domain_violations, in_domain
from physics.errors import did_you_mean
from physics.observables import FLAVOUR_NAMES, KMUNUEE_MEE_MIN, KSTEE_WINDOW
from physics.options import TheoryOptions
from physics.params import PAPER_UNIT_FACTORS, PAPER_UNITS, PARAM_NAMES, FloatArray, ModelParams

__all__ = ["KMUNUEE_MEE_MIN", "KSTEE_WINDOW", "REGISTRY", "Context", "Observable", "Prediction",
           "domain_violations", "in_domain", "predict"]



class Context:
    """Parameter points + options, with the shared intermediate quantities cached for one predict call."""

    def __init__(self, params: ModelParams, options: TheoryOptions):
        self.p = params
        self.options = options

    @cached_property
    def flavour(self) -> dict[str, FloatArray]:
        """physics.observables.flavour at the points: FLAVOUR_NAMES -> values, and "br_vis" -> B(S -> visible);
        B(K+ -> mu+ nu S) by its quadrature."""
        p = self.p
        values = np.empty((len(FLAVOUR_NAMES), p.size))
        br_vis = observables.flavour(p.kappa, p.eta_d, p.eta_c, p.eta_t, p.g_D, p.U_mu4, p.m_S,
                                     observables.flavour_constants(self.options), kaon.br_K_to_munu_S(1.0, p.m_S),
                                     values)
        return {**dict(zip(FLAVOUR_NAMES, values, strict=True)), "br_vis": np.broadcast_to(br_vis, (p.size,))}

    @cached_property
    def g_bs(self) -> np.ndarray:
        return np.asarray(couplings.g_bs(self.p.eta_t))

    @cached_property
    def g_sd(self) -> np.ndarray:
        return np.asarray(couplings.g_sd(self.p.eta_t, self.p.eta_c))

    def bs_nunu(self, mode: str) -> FloatArray:
        p = self.p
        return bmeson.br_Bs_nunu(self.g_bs, p.g_D, p.U_mu4, p.m_S, p.m_nu4, self.flavour["BR(S->nunu)"], mode=mode)


class Prediction(NamedTuple):
    """One observable at N points: new-physics part, SM central value (None if none), and SM + NP."""

    np: FloatArray
    sm: float | None
    total: FloatArray


@dataclass(frozen=True)
class Observable:
    name: str
    compute: Callable[[Context], FloatArray]
    unit: str
    latex: str
    source: str
    description: str
    sm: SMPrediction | None = None


def _flavour(name: str) -> Callable[[Context], FloatArray]:
    def get(ctx: Context) -> FloatArray:
        return ctx.flavour[name]
    return get


def _param(name: str) -> Callable[[Context], FloatArray]:
    def get(ctx: Context) -> FloatArray:
        return np.asarray(getattr(ctx.p, name) / PAPER_UNIT_FACTORS[name])
    return get


_F = "docs/physics/flavour.md"
_G = "docs/physics/g2-scattering.md"
# (name, compute, unit, latex, source, description)
# compute None: the value physics.observables.flavour gives (Context.flavour)
_DEFINITIONS: list[tuple[str, Callable[[Context], FloatArray] | None, str, str, str, str]] = [
    # B decays
    ("BR(B+->K+S)", None, "1", r"\mathcal{B}(B^+\to K^+ S)", f"{_F} §4.1",
     "two-body B+ -> K+ S"),
    ("BR(B0->K*0S)", None, "1", r"\mathcal{B}(B^0\to K^{*0} S)", f"{_F} §4.1",
     "two-body B0 -> K*0 S"),
    ("BR(B+->K*+S)", None, "1", r"\mathcal{B}(B^+\to K^{*+} S)", f"{_F} §4.1",
     "two-body B+ -> K*+ S"),
    ("BR(B+->K+nunu)", None, "1", r"\mathcal{B}(B^+\to K^+\nu\bar\nu)",
     f"{_F} §4.1", "NP = B(B+ -> K+ S) B(S -> nu nu)"),
    ("BR(B0->K*0nunu)", None, "1",
     r"\mathcal{B}(B^0\to K^{*0}\nu\bar\nu)", f"{_F} §4.1", "NP = B(B0 -> K*0 S) B(S -> nu nu)"),
    ("BR(B+->K*+nunu)", None, "1",
     r"\mathcal{B}(B^+\to K^{*+}\nu\bar\nu)", f"{_F} §4.1", "NP = B(B+ -> K*+ S) B(S -> nu nu)"),
    ("BR(B0->K*0ee)[0.03,1]", None, "1",
     r"\mathcal{B}(B^0\to K^{*0}e^+e^-)_{[0.03,1]}", f"{_F} §4.1",
     "NP = B(B0 -> K*0 S) B(S -> ee) if 0.03 <= m_S <= 1 GeV"),
    ("BR(Bs->gammagamma)", None, "1",
     r"\mathcal{B}(B_s\to\gamma\gamma)", f"{_F} §4.3", "off-shell S exchange"),
    ("BR(Bs->mumu)", None, "1",
     r"\mathcal{B}(B_s\to\mu^+\mu^-)", f"{_F} §4.3", "scalar operator, no interference with the SM"),
    ("BR(Bs->nunu)", lambda c: c.bs_nunu("light"), "1", r"\mathcal{B}(B_s\to\nu\bar\nu)_{\rm light}",
     f"{_F} §4.3", "light neutrinos only (prediction)"),
    ("BR(Bs->nuDnuD)", lambda c: c.bs_nunu("all"), "1", r"\mathcal{B}(B_s\to\nu_D\bar\nu_D)", f"{_F} §4.3",
     "all nu_D pairs including nu4 (prediction)"),
    ("BR(Bs->invisible)", lambda c: c.bs_nunu("invisible"), "1", r"\mathcal{B}(B_s\to{\rm invisible})",
     f"{_F} §4.3", "nu_D pairs with nu4 -> nu S(nu nu) (prediction)"),
    # K decays
    ("BR(K+->pi+S)", None, "1", r"\mathcal{B}(K^+\to\pi^+ S)", f"{_F} §4.2", "|g_sd|^2"),
    ("BR(KL->pi0S)", None, "1", r"\mathcal{B}(K_L\to\pi^0 S)", f"{_F} §4.2",
     "(Re g_sd)^2 in the paper scenario"),
    ("BR(KS->pi0S)", None, "1", r"\mathcal{B}(K_S\to\pi^0 S)", f"{_F} §4.2", "(Im g_sd)^2"),
    ("BR(K+->pi+nunu)", None, "1", r"\mathcal{B}(K^+\to\pi^+\nu\bar\nu)",
     f"{_F} §4.2", "NP = B(K+ -> pi+ S) B(S -> nu nu) (prediction in the paper)"),
    ("BR(KL->pi0nunu)", None, "1", r"\mathcal{B}(K_L\to\pi^0\nu\bar\nu)",
     f"{_F} §4.2", "NP = B(K_L -> pi0 S) B(S -> nu nu)"),
    ("BR(KL->pi0ee)", None, "1", r"\mathcal{B}(K_L\to\pi^0 e^+e^-)",
     f"{_F} §4.2", "NP = B(K_L -> pi0 S) B(S -> ee)"),
    ("BR(KL->pi0gammagamma)", None, "1",
     r"\mathcal{B}(K_L\to\pi^0\gamma\gamma)", f"{_F} §4.2", "NP = B(K_L -> pi0 S) B(S -> gamma gamma)"),
    ("BR(KS->pi0gammagamma)", None, "1",
     r"\mathcal{B}(K_S\to\pi^0\gamma\gamma)", f"{_F} §4.2", "NP = B(K_S -> pi0 S) B(S -> gamma gamma)"),
    ("BR(K+->pi+gammagamma)", None, "1",
     r"\mathcal{B}(K^+\to\pi^+\gamma\gamma)", f"{_F} §4.2", "NP = B(K+ -> pi+ S) B(S -> gamma gamma)"),
    ("BR(K+->mu+nuee)[mee>140]",
     None, "1",
     r"\mathcal{B}(K^+\to\mu^+\nu e^+e^-)_{m_{ee}>140}", f"{_F} §4.2",
     "NP = B(K+ -> mu+ nu S) B(S -> ee), only for m_S > 140 MeV"),
    # mixing
    ("DeltaM_Bs", None, "ps^-1", r"\Delta M_{B_s}", f"{_F} §5",
     "tree-level S exchange"),
    ("DeltaM_K", None, "s^-1", r"\Delta M_K", f"{_F} §5",
     "tree-level S exchange"),
    # g-2
    ("Delta_a_mu", lambda c: g2.delta_a_lepton(c.p, CONST.m_mu, kappa_finite=c.options.g2_kappa_finite,
                                              two_loop_bz=c.options.g2_two_loop_bz),
     "1", r"\Delta a_\mu", f"{_G} §1", "kappa leading log (Lambda = 2 TeV) + one-loop Yukawa"),
    ("Delta_a_e", lambda c: g2.delta_a_lepton(c.p, CONST.m_e, kappa_finite=c.options.g2_kappa_finite,
                                             two_loop_bz=c.options.g2_two_loop_bz),
     "1", r"\Delta a_e", f"{_G} §1", "kappa leading log (Lambda = 2 TeV) + one-loop Yukawa"),
    # scattering
    ("R_MiniBooNE", lambda c: miniboone.r_miniboone(c.p, c.flavour["br_vis"], c.options), "1",
     r"\mathcal{R}_{\rm MiniBooNE}", f"{_G} §5, paper eq. (7)", "scalar / Z' event ratio"),
    ("R_CHARMII", lambda c: miniboone.r_charm2(c.p, c.flavour["br_vis"], c.options), "1",
     r"\mathcal{R}_{\rm CHARM\text{-}II}", f"{_G} §6, paper eq. (8)", "scalar / Z' ratio at 20 GeV"),
    ("g_Sp", None, "1", r"g_{Sp}", f"{_G} §3", "scalar-proton coupling"),
    ("g_Sn", None, "1", r"g_{Sn}", f"{_G} §3", "scalar-neutron coupling"),
    # S and nu4 properties
    ("Gamma_S", None, "GeV", r"\Gamma_S", f"{_G} §2.1", "total width of S"),
    ("BR(S->gammagamma)", None, "1", r"\mathcal{B}(S\to\gamma\gamma)", f"{_G} §2.1", ""),
    ("BR(S->ee)", None, "1", r"\mathcal{B}(S\to e^+e^-)", f"{_G} §2.1", ""),
    ("BR(S->nunu)", None, "1", r"\mathcal{B}(S\to\nu\bar\nu)", f"{_G} §2.1", ""),
    ("ctau_S", None, "mm", r"c\tau_S", f"{_F} §3", "proper decay length of S"),
    ("tau_S", None, "ps", r"\tau_S", f"{_F} §3", "proper lifetime of S"),
    ("Gamma_nu4", lambda c: width_nu4(c.p), "GeV", r"\Gamma_{\nu_4}", f"{_G} §2.1", "nu4 -> nu S"),
    ("|g_bs|", lambda c: np.abs(c.g_bs), "1", r"|g_{bs}|", "paper eq. (5)", ""),
    ("Re(g_sd)", lambda c: c.g_sd.real, "1", r"{\rm Re}\,g_{sd}", "paper eq. (6) with 1/v", ""),
    ("Im(g_sd)", lambda c: c.g_sd.imag, "1", r"{\rm Im}\,g_{sd}", "paper eq. (6) with 1/v", ""),
]

_PARAM_LATEX = {"kappa": r"\kappa", "eta_d": r"\eta_d", "eta_c": r"\eta_c", "eta_t": r"\eta_t",
                "g_D": r"g_D", "U_mu4": r"|U_{\mu 4}|", "m_S": r"m_S", "m_nu4": r"m_{\nu_4}"}


def _build_registry() -> Mapping[str, Observable]:
    sm = load_sm_predictions()
    reg: dict[str, Observable] = {}
    for name, fn, unit, latex, source, desc in _DEFINITIONS:
        reg[name] = Observable(name, fn or _flavour(name), unit, latex, source, desc, sm.get(name))
    for pname in PARAM_NAMES:
        reg[pname] = Observable(pname, _param(pname), PAPER_UNITS[pname], _PARAM_LATEX[pname],
                                "model parameter (paper units)", "model parameter")
    unknown_sm = set(sm) - set(reg)
    if unknown_sm:
        raise ValueError(f"physics/data/sm_predictions.yaml names unknown observables: {sorted(unknown_sm)}")
    return MappingProxyType(reg)


REGISTRY: Mapping[str, Observable] = _build_registry()


def predict(params: ModelParams, names: Iterable[str] | None = None,
            options: TheoryOptions | None = None) -> dict[str, Prediction]:
    """Predictions of the named observables (all if None) at the N points of ``params``."""
    opts = options if options is not None else TheoryOptions()
    wanted = list(REGISTRY) if names is None else list(names)
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise KeyError("unknown observable(s): " + ", ".join(f"{n!r}{did_you_mean(n, REGISTRY)}" for n in unknown))
    ctx = Context(params, opts)
    out: dict[str, Prediction] = {}
    for name in wanted:
        obs = REGISTRY[name]
        np_part = np.broadcast_to(np.asarray(obs.compute(ctx), dtype=float), (params.size,))
        sm = obs.sm.value if obs.sm is not None else None
        total = np_part + sm if sm is not None else np_part
        out[name] = Prediction(np_part, sm, total)
    return out
