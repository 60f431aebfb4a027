"""The ``likelihood:``, ``theory:`` and ``sampler:`` sections of a run file.

Names are checked against the packages that own them: measurement sets and modes against ``likelihoods``,
the term overrides (names, kinds, numbers) by ``likelihoods.joint.check_overrides`` itself; scenarios and
theory options against ``physics.options``; sampler settings against the ``DEFAULTS`` of the sampler
adapters in ``inference.samplers``' registry (``SAMPLERS``: the names and every default come from there; the
checks below only add the allowed values of a setting).
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inference.config.checks import KeyPath, Source
from inference.samplers import SAMPLER_NAMES, sampler_defaults
from physics.miniboone import UntabulatedOptionError, check_options
from physics.options import SCENARIOS, TheoryOptions
from physics.options import scenario as physics_scenario

LIKELIHOOD_KEYS = ("data", "mode", "softening", "measurements", "terms")
THEORY_KEYS = ("scenario", "options")
SAMPLER_KEYS = ("name", "settings")
#: likelihood.mode when a run file leaves it out (and ``darkportal predict``'s default)
DEFAULT_MODE = "gaussian"
DYNESTY_BOUNDS = ("none", "single", "multi", "balls", "cubes")
DYNESTY_SAMPLE = ("auto", "unif", "rwalk", "slice", "rslice")


@dataclass(frozen=True)
class LikelihoodApi:
    """What the run file needs to know of the likelihoods package."""

    measurement_sets: tuple[str, ...]
    modes: tuple[str, ...]
    available_terms: Callable[[str], Iterable[str]]


def _export(name: str, modules: tuple[str, ...]) -> Any:
    """``likelihoods.<name>``, looked up in the package first and then in the module that defines it."""
    for module_name in modules:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            return getattr(module, name)
    raise ImportError(f"likelihoods does not export {name!r} (looked in {', '.join(modules)})")


def likelihood_api() -> LikelihoodApi:
    """The names exported by ``likelihoods`` (imported lazily: the other sections need none of them)."""
    where = ("likelihoods", "likelihoods.database", "likelihoods.terms")
    return LikelihoodApi(tuple(_export("MEASUREMENT_SETS", where)), tuple(_export("MODES", where)),
                         _export("available_terms", where))


# likelihood ---------------------------------------------------------------------------------------
def parse_likelihood(raw: Any, src: Source, api: LikelihoodApi) -> dict[str, Any]:
    """-> {"data", "mode", "softening" (None in gaussian mode), "terms": {name: {enabled?, kind?}},
    "measurements": the user's measurements file (``inference.config.measurements``) or None}."""
    path: KeyPath = ("likelihood",)
    if raw is None:
        src.fail(path, "the likelihood section is missing",
                 f"Add likelihood: {{data: {api.measurement_sets[0]!r}, mode: gaussian}}; measurement sets: "
                 + ", ".join(api.measurement_sets))
    section = src.mapping(raw, path, "likelihood", "likelihood: {data: '2023', mode: gaussian}")
    src.known_keys(section, path, LIKELIHOOD_KEYS)
    if section.get("data") is None:
        src.fail((*path, "data"), "the measurement set 'data' is missing",
                 "Add data: with one of " + ", ".join(repr(m) for m in api.measurement_sets))
    data = section["data"]
    if isinstance(data, int) and not isinstance(data, bool):
        data = str(data)  # `data: 2023` without quotes is read by YAML as an integer
    data = src.choice(data, (*path, "data"), api.measurement_sets, "measurement set")
    mode = src.choice(section.get("mode", DEFAULT_MODE), (*path, "mode"), api.modes, "likelihood mode")
    softening: float | None = None
    if "softening" in section:
        if mode != "cuts":
            src.fail((*path, "softening"), f"softening applies to mode: cuts only, but mode is {mode}",
                     "Remove softening, or set mode: cuts")
        softening = src.number(section["softening"], (*path, "softening"), low=0.0,
                               hint="Use softening >= 0 (0 keeps the hard cuts of the paper)")
    elif mode == "cuts":
        softening = 0.0
    measurements = None
    if section.get("measurements") is not None:
        from inference.config.measurements import parse_measurements

        measurements = parse_measurements(section["measurements"], src, data)
    added = measurements.added if measurements is not None else ()
    terms = _parse_terms(section.get("terms"), (*path, "terms"), src, api, data, added)
    return {"data": data, "mode": mode, "softening": softening, "terms": terms, "measurements": measurements}


def _parse_terms(raw: Any, path: KeyPath, src: Source, api: LikelihoodApi, data: str,
                 added: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """The term overrides, checked by the likelihood layer (``likelihoods.joint.check_overrides``, the one
    check of them); its :class:`~likelihoods.errors.TermOverrideError` becomes a RunConfigError at the term
    or its setting."""
    if raw is None:
        return {}
    section = src.mapping(raw, path, "terms", '"BR(Bs->mumu)": {enabled: false}')
    names = [*api.available_terms(data), *added]  # the set's terms and those the measurements file adds
    from likelihoods.errors import TermOverrideError
    from likelihoods.joint import check_overrides

    try:
        return check_overrides(section, names, data)
    except TermOverrideError as exc:
        src.fail((*path, exc.term) if exc.key is None else (*path, exc.term, exc.key), exc.problem, exc.fix)


# theory -------------------------------------------------------------------------------------------
def _option_types() -> dict[str, Any]:
    return typing.get_type_hints(TheoryOptions)


def parse_theory(raw: Any, src: Source) -> dict[str, Any]:
    """-> {"scenario": name, "options": {field: value}} (options only as overrides of the scenario)."""
    path: KeyPath = ("theory",)
    if raw is None:
        return {"scenario": "paper", "options": {}}
    section = src.mapping(raw, path, "theory", "theory: {scenario: paper}")
    src.known_keys(section, path, THEORY_KEYS)
    scenario = src.choice(section.get("scenario", "paper"), (*path, "scenario"), SCENARIOS, "theory scenario")
    options: dict[str, Any] = {}
    raw_options = section.get("options")
    if raw_options is not None:
        opath = (*path, "options")
        opts = src.mapping(raw_options, opath, "theory options", "{r_normalisation: recast}")
        fields = TheoryOptions.field_names()
        src.known_keys(opts, opath, fields, "theory option")
        hints = _option_types()
        for key, value in opts.items():
            options[key] = _check_option(value, (*opath, key), hints[key], src)
    try:
        check_options(physics_scenario(scenario, **options))
    except UntabulatedOptionError as exc:
        src.fail((*path, "options", exc.option), exc.problem,
                 f"Use {exc.option}: {exc.tabulated:g}, or rebuild the tables for it "
                 "(tools/generate_scattering_tables.py)")
    return {"scenario": scenario, "options": options}


def _check_option(value: Any, path: KeyPath, hint: Any, src: Source) -> Any:
    args = typing.get_args(hint)
    if type(None) in args:  # "X | None": None means "the preset of r_normalisation"; a file names a value
        hint = next(a for a in args if a is not type(None))
    if typing.get_origin(hint) is typing.Literal:
        return src.choice(value, path, [str(a) for a in typing.get_args(hint)], "value")
    if hint is bool:
        return src.boolean(value, path)
    if hint is int:
        return src.integer(value, path)
    if hint is float:
        return src.number(value, path)
    return value


# sampler ------------------------------------------------------------------------------------------
def _positive_int_or_none(value: Any, path: KeyPath, src: Source) -> int | None:
    return None if value is None else _count(value, path, src, low=1)


def _count(value: Any, path: KeyPath, src: Source, low: int) -> int:
    """Integers, also written as 1e6 (an integral float) since counts are often written that way."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return src.integer(value, path, low=low)


Check = Callable[[Any, KeyPath, Source], Any]
#: the allowed values of the settings of each registered sampler (keys: `SAMPLER_NAMES`; each setting one of
#: its adapter's DEFAULTS, a test checks both); settings without a rule are checked by the type of the default
SETTING_CHECKS: dict[str, dict[str, Check]] = {
    "dynesty": {
        "nlive": lambda v, p, s: _count(v, p, s, low=2),
        "dlogz": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "bound": lambda v, p, s: s.choice(v, p, DYNESTY_BOUNDS, "dynesty bound"),
        "sample": lambda v, p, s: s.choice(v, p, DYNESTY_SAMPLE, "dynesty sampling method"),
        "walks": _positive_int_or_none,
        "slices": _positive_int_or_none,
        "maxcall": _positive_int_or_none,
        "maxiter": _positive_int_or_none,
        "checkpoint_every": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "n_resample": lambda v, p, s: _count(v, p, s, low=0),
        "queue_size": _positive_int_or_none,
        "nruns": lambda v, p, s: _count(v, p, s, low=1),
        "refine": lambda v, p, s: s.choice(v, p, ("none", "importance"), "dynesty refinement"),
        "refine_target_err": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "refine_max_draws": lambda v, p, s: _count(v, p, s, low=1000),
        "refine_n_eff": lambda v, p, s: _count(v, p, s, low=1),
        "refine_alpha": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False, high=1.0),
        "refine_components": lambda v, p, s: _count(v, p, s, low=1),
        "refine_adapt": lambda v, p, s: _count(v, p, s, low=0),
    },
    "emcee": {
        "nwalkers": _positive_int_or_none,
        "ensembles": lambda v, p, s: _count(v, p, s, low=_min_ensembles()),
        "moves": lambda v, p, s: _emcee_moves(v, p, s),
        "max_steps": lambda v, p, s: _count(v, p, s, low=1),
        "max_time": lambda v, p, s: None if v is None else s.number(v, p, low=0.0, low_inclusive=False,
                                                                   hint="Give seconds, such as 600, or null"),
        "thin_by": lambda v, p, s: _count(v, p, s, low=1),
        "tau_factor": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "rhat_max": lambda v, p, s: s.number(v, p, low=1.0, low_inclusive=False,
                                             hint="Use a value just above 1, such as 1.01"),
        "ess_min": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "tau_rtol": lambda v, p, s: None if v is None else s.number(v, p, low=0.0, low_inclusive=False),
        "check_every": lambda v, p, s: _count(v, p, s, low=1),
        "initial": lambda v, p, s: s.string(v, p, hint="Write prior, or the path of a results folder"),
        "backup_every": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "flush_every": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
    },
    "scan": {
        "batch_size": lambda v, p, s: _count(v, p, s, low=1),
        "n_eff": lambda v, p, s: _count(v, p, s, low=1),
        "max_calls": lambda v, p, s: _count(v, p, s, low=1),
        "alpha": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False, high=1.0),
        "n_components": lambda v, p, s: _count(v, p, s, low=1),
        "scale": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False),
        "min_accepted": lambda v, p, s: _count(v, p, s, low=1),
        "n_resample": lambda v, p, s: _count(v, p, s, low=0),
        "pilot_particles": lambda v, p, s: _count(v, p, s, low=0),
        "pilot_steps": lambda v, p, s: _count(v, p, s, low=1),
        "pilot_max_calls": lambda v, p, s: _count(v, p, s, low=1),
        "pilot_ess": lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False, high=1.0),
        "max_points": lambda v, p, s: _count(v, p, s, low=1),
        "checkpoint_every": lambda v, p, s: s.number(v, p, low=0.0),
    },
}
for _checks in SETTING_CHECKS.values():
    _checks["progress_every"] = lambda v, p, s: s.number(v, p, low=0.0, low_inclusive=False)


def _min_ensembles() -> int:
    from inference.samplers.emcee_backend import MIN_ENSEMBLES

    return MIN_ENSEMBLES


def _emcee_moves(value: Any, path: KeyPath, src: Source) -> dict[str, Any]:
    """The emcee move mixture, checked and normalised by the adapter's own parser."""
    from inference.samplers.emcee_moves import moves_as_setting, parse_moves

    if isinstance(value, Mapping):
        src.mapping(value, path, "moves", "moves: {de: 0.8, de_snooker: 0.2}")
    return moves_as_setting(parse_moves(value, lambda sub, problem, fix: src.fail((*path, *sub), problem, fix)))


def _check_emcee(settings: Mapping[str, Any], spath: KeyPath, src: Source) -> None:
    """Settings of emcee that depend on each other: steps counted in multiples of the stored thinning."""
    thin = int(settings.get("thin_by") or 1)
    for key in ("check_every", "max_steps"):
        if settings.get(key) is not None and int(settings[key]) % thin:
            src.fail((*spath, key), f"{key} = {settings[key]} is not a multiple of thin_by = {thin}",
                     f"Use a multiple of {thin}, such as {int(settings[key]) // thin * thin or thin}")


def _generic_check(default: Any) -> Check:
    """A check from the type of the default value, for settings without a specific rule."""
    if isinstance(default, bool):
        return lambda v, p, s: s.boolean(v, p)
    if isinstance(default, int):
        return lambda v, p, s: _count(v, p, s, low=0)
    if isinstance(default, float):
        return lambda v, p, s: s.number(v, p)
    if isinstance(default, str):
        return lambda v, p, s: s.string(v, p)
    return lambda v, p, s: v if v is None or isinstance(v, str) else s.number(v, p)


def parse_sampler(raw: Any, src: Source) -> dict[str, Any]:
    """-> {"name": sampler, "settings": adapter defaults overlaid with the file's settings}."""
    path: KeyPath = ("sampler",)
    if raw is None:
        src.fail(path, "the sampler section is missing",
                 "Add sampler: {name: dynesty, settings: {nlive: 400}}; samplers: "
                 + ", ".join(SAMPLER_NAMES))
    section = src.mapping(raw, path, "sampler", "sampler: {name: dynesty}")
    src.known_keys(section, path, SAMPLER_KEYS)
    name = src.choice(src.required(section, path, "name", "Add name: " + " | ".join(SAMPLER_NAMES)),
                      (*path, "name"), SAMPLER_NAMES, "sampler")
    defaults = sampler_defaults(name)
    settings = dict(defaults)
    raw_settings = section.get("settings")
    if raw_settings is not None:
        spath = (*path, "settings")
        given = src.mapping(raw_settings, spath, "sampler settings", "settings: {nlive: 400}")
        src.known_keys(given, spath, defaults, f"{name} setting")
        checks = SETTING_CHECKS[name]
        for key, value in given.items():
            check = checks.get(key) or _generic_check(defaults[key])
            settings[key] = check(value, (*spath, key), src)
        if name == "emcee":
            _check_emcee(settings, spath, src)
    if name == "emcee" and "moves" in settings:
        settings["moves"] = _emcee_moves(settings["moves"], ("sampler", "settings", "moves"), src)
    return {"name": name, "settings": settings}


def check_sampler_dimension(sampler: Mapping[str, Any], ndim: int, src: Source) -> None:
    """Checks that need the number of free parameters (nlive, nwalkers)."""
    settings = sampler["settings"]
    spath: KeyPath = ("sampler", "settings")
    if sampler["name"] == "dynesty" and settings.get("nlive") is not None and settings["nlive"] <= ndim + 1:
        src.fail((*spath, "nlive"), f"nlive = {settings['nlive']} is too small for {ndim} free parameters",
                 f"Use nlive > {ndim + 1} (a few hundred for a reliable evidence)")
    nwalkers = settings.get("nwalkers")
    if sampler["name"] == "emcee" and nwalkers is not None and nwalkers < 2 * ndim:
        src.fail((*spath, "nwalkers"), f"emcee needs at least 2 walkers per free parameter "
                 f"({2 * ndim} for {ndim}), got {settings['nwalkers']}",
                 f"Use nwalkers >= {2 * ndim} (an even number)")
