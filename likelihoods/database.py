"""The measurement database: ``likelihoods/data/measurements.yaml`` loaded and validated.

The YAML holds named measurement sets (``MEASUREMENT_SETS``); a set may name a ``base`` set and list only
the entries it replaces or adds (an entry with a known name is merged key by key over the base entry).
Each entry becomes a :class:`MeasurementEntry`; :meth:`MeasurementEntry.spec` turns it into the numbers of
a :class:`~likelihoods.terms.TermSpec` for a chosen kind, deriving what the kind needs from the data
(e.g. an interval from a measurement's 1 sigma band) and failing with a named error when it cannot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from likelihoods.errors import LikelihoodConfigError, MeasurementDataError, did_you_mean
from likelihoods.terms import TERM_KINDS, TermKind, TermSpec
from physics.constants import SMPrediction, load_sm_predictions

DATA_FILE = "measurements.yaml"
MEASUREMENT_SETS: tuple[str, ...] = ("2023", "2025")
SOURCE_PATTERN = re.compile(
    r"arXiv:(\d{4}\.\d{4,5}|[a-z\-]+/\d{7})|PDG \d{4}|doi:10\.\d{4,9}/\S+")

_ENTRY_KEYS = {"name", "observable", "unit", "applies_to", "kind", "data", "sm", "source", "reference",
               "table_row", "paper_condition", "note", "enabled", "window", "label"}
_REQUIRED_KEYS = ("name", "observable", "unit", "applies_to", "kind", "data", "source", "table_row",
                  "paper_condition", "note", "enabled")
_DATA_KEYS = {"central", "error", "error_up", "error_down", "limit", "cl", "low", "high"}
#: the keys of an entry, the ones every new entry needs, and the keys of its `data` mapping
ENTRY_KEYS: tuple[str, ...] = tuple(sorted(_ENTRY_KEYS))
REQUIRED_ENTRY_KEYS: tuple[str, ...] = _REQUIRED_KEYS
DATA_KEYS: tuple[str, ...] = tuple(sorted(_DATA_KEYS))
SM_FILE = "physics/data/sm_predictions.yaml"
# numeric fields a run file may override per term (besides "enabled" and "kind")
NUMERIC_OVERRIDES = ("central", "error", "error_up", "error_down", "limit", "cl", "low", "high", "softening")


@dataclass(frozen=True)
class MeasurementEntry:
    """One published result or condition, as in the YAML (see the header of the data file)."""

    name: str
    observable: str
    unit: str
    applies_to: str
    kind: str
    data: Mapping[str, float]
    sm: SMPrediction | None  # the observable's SM prediction (physics), when the term quotes it
    source: str
    reference: str
    table_row: str
    paper_condition: str
    note: str
    enabled: bool
    window_observable: str | None = None
    windows: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    label_override: str | None = None

    @property
    def label(self) -> str:
        """How the compared quantity reads in a condition: the YAML `label`, else SM+NP / NP / the name."""
        if self.label_override:
            return self.label_override
        if self.applies_to == "total":
            return "SM+NP"
        return "NP" if self.sm is not None else self.observable

    def spec(self, kind: str | None = None, numbers: Mapping[str, float] | None = None) -> TermSpec:
        """TermSpec of this entry as ``kind`` (default: the entry's), with ``numbers`` overriding the data.

        Raises LikelihoodConfigError if the data cannot supply what the kind needs.
        """
        name = self.kind if kind is None else kind
        if name not in TERM_KINDS:
            raise LikelihoodConfigError(f"unknown kind {name!r}{did_you_mean(name, TERM_KINDS)}; choose one of "
                                        f"{', '.join(TERM_KINDS)}", term=self.name, key="kind")
        k = TermKind(name)
        d: dict[str, float] = {**self.data, **{key: v for key, v in (numbers or {}).items()
                                             if key != "softening"}}
        up, down = _errors(d)
        fields_: dict[str, Any] = {}
        if k.is_measurement:
            if "error" not in d and k is TermKind.GAUSSIAN and up is not None and down is not None:
                up = down = 0.5 * (up + down)  # symmetric stand-in for an asymmetric measurement
            fields_.update(central=d.get("central"), error_up=up, error_down=down)
        elif k is TermKind.UPPER_LIMIT:
            fields_.update(limit=d.get("limit", d.get("high")), cl=d.get("cl"))
        else:
            low, high = d.get("low"), d.get("high")
            if low is None and high is None:
                if "limit" in d:
                    high = d["limit"]
                elif "central" in d and up is not None and down is not None:
                    low, high = d["central"] - down, d["central"] + up
            fields_.update(low=low, high=high)
        th_up, th_down = (self.sm.error_up, self.sm.error_down) if self.sm is not None else (0.0, 0.0)
        softening = (numbers or {}).get("softening")
        try:
            return TermSpec(name=self.name, observable=self.observable, applies_to=self.applies_to,  # type: ignore[arg-type]
                            kind=k, unit=self.unit, theory_up=th_up, theory_down=th_down,
                            window_observable=self.window_observable, windows=self.windows,
                            softening=None if softening is None else float(softening), label=self.label,
                            **fields_)
        except ValueError as exc:
            raise LikelihoodConfigError(f"{exc} (data available: {sorted(d)})", term=self.name,
                                        named=True) from None  # TermSpec's message names the term and kind


def _errors(d: Mapping[str, float]) -> tuple[float | None, float | None]:
    if "error" in d:
        return d["error"], d["error"]
    return d.get("error_up"), d.get("error_down")


def _as_float(value: Any, where: str, entry: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MeasurementDataError(where, f"expected a number, got {value!r}", entry=entry)
    return float(value)


def _parse_sm(raw: Any, observable: str, where: str, entry: str | None) -> SMPrediction | None:
    """``sm: true`` -> the SM prediction of ``observable`` (physics/data/sm_predictions.yaml, the one record of
    it); ``sm: null`` or ``false`` -> None."""
    if raw is None or raw is False:
        return None
    if raw is not True:
        raise MeasurementDataError(f"{where}.sm", f"expected true or null, got {raw!r}: the SM values live, with "
                                   f"their sources, in {SM_FILE}; write sm: true to quote the observable's",
                                   entry=entry)
    sm = load_sm_predictions().get(observable)
    if sm is None:
        raise MeasurementDataError(f"{where}.sm", f"{observable!r} has no SM prediction in {SM_FILE}; write "
                                   "sm: null, or add the prediction there with its source", entry=entry)
    return sm


def _parse_entry(raw: Mapping[str, Any], where: str) -> MeasurementEntry:
    name = str(raw["name"]) if "name" in raw else None
    bad = set(raw) - _ENTRY_KEYS
    if bad:
        raise MeasurementDataError(where, f"unknown key(s) {sorted(bad)}; known: {sorted(_ENTRY_KEYS)}", entry=name)
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if missing:
        raise MeasurementDataError(where, f"missing {missing}", entry=name)
    if not SOURCE_PATTERN.search(str(raw["source"])):
        raise MeasurementDataError(where, f"source {raw['source']!r} is not an arXiv id, PDG year or DOI",
                                   entry=name)
    data = raw["data"]
    if not isinstance(data, dict) or set(data) - _DATA_KEYS:
        raise MeasurementDataError(f"{where}.data", f"expected a mapping with keys from {sorted(_DATA_KEYS)}",
                                   entry=name)
    window_obs: str | None = None
    windows: tuple[tuple[float, float], ...] = ()
    if raw.get("window") is not None:
        w = raw["window"]
        if not isinstance(w, dict) or set(w) != {"observable", "ranges"}:
            raise MeasurementDataError(f"{where}.window", "expected {observable, ranges}", entry=name)
        window_obs = str(w["observable"])
        windows = tuple((_as_float(lo, f"{where}.window", name), _as_float(hi, f"{where}.window", name))
                        for lo, hi in w["ranges"])
    if not isinstance(raw["enabled"], bool):
        raise MeasurementDataError(f"{where}.enabled", "expected true or false", entry=name)
    entry = MeasurementEntry(
        name=str(raw["name"]), observable=str(raw["observable"]), unit=str(raw["unit"]),
        applies_to=str(raw["applies_to"]), kind=str(raw["kind"]),
        data={k: _as_float(v, f"{where}.data.{k}", name) for k, v in data.items()},
        sm=_parse_sm(raw.get("sm"), str(raw["observable"]), where, name), source=str(raw["source"]),
        reference=str(raw.get("reference", "")),
        table_row=str(raw["table_row"]), paper_condition=str(raw["paper_condition"]), note=str(raw["note"]),
        enabled=raw["enabled"], window_observable=window_obs, windows=windows,
        label_override=str(raw["label"]) if raw.get("label") else None)
    try:
        entry.spec()  # the default kind must be buildable from the data
    except LikelihoodConfigError as exc:
        raise MeasurementDataError(where, exc.problem, entry=name) from None  # where names the entry
    return entry


def merge_entries(base: Sequence[Mapping[str, Any]], changes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``base`` entries (raw YAML mappings) with ``changes`` applied: an entry whose name is already there is
    merged key by key over it (its keys replace the base entry's), a new name is appended. The rule of a set's
    ``base`` and of a run file's measurements file."""
    merged = [dict(e) for e in base]
    index = {e["name"]: i for i, e in enumerate(merged)}
    for e in changes:
        if e.get("name") in index:
            merged[index[e["name"]]] = {**merged[index[e["name"]]], **e}
        else:
            index[e.get("name")] = len(merged)
            merged.append(dict(e))
    return merged


def _resolve(name: str, sets: Mapping[str, Any], seen: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    if name in seen:
        raise MeasurementDataError("measurement sets", f"circular base {' -> '.join((*seen, name))}")
    raw = sets[name]
    entries_raw = raw.get("entries") or []
    if "base" not in raw:
        return [dict(e) for e in entries_raw]
    base = raw["base"]
    if base not in sets:
        raise MeasurementDataError(f"set {name!r}", f"unknown base {base!r}")
    return merge_entries(_resolve(base, sets, (*seen, name)), entries_raw)


@cache
def _raw_sets() -> dict[str, tuple[dict[str, Any], ...]]:
    """The resolved raw entries of every set (bases applied), as read from the YAML."""
    text = resources.files("likelihoods.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict) or raw.get("schema") != 1 or not isinstance(raw.get("sets"), dict):
        raise MeasurementDataError(f"likelihoods/data/{DATA_FILE}", "expected 'schema: 1' and a 'sets' mapping")
    sets = raw["sets"]
    if tuple(sets) != MEASUREMENT_SETS:
        raise MeasurementDataError(f"likelihoods/data/{DATA_FILE}", f"sets {list(sets)} != {list(MEASUREMENT_SETS)}")
    return {name: tuple(_resolve(name, sets)) for name in sets}


def _parse_set(raw_entries: Sequence[Mapping[str, Any]], where: str) -> tuple[MeasurementEntry, ...]:
    entries = tuple(_parse_entry(e, f"{where} entry {e.get('name', i)!r}") for i, e in enumerate(raw_entries))
    names = [e.name for e in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MeasurementDataError(where, f"duplicate names {dupes}", entry=dupes[0])
    return entries


@cache
def _load_all() -> dict[str, tuple[MeasurementEntry, ...]]:
    return {name: _parse_set(raw, f"{DATA_FILE}: set {name!r}") for name, raw in _raw_sets().items()}


def raw_entries(data_set: str) -> list[dict[str, Any]]:
    """The entries of a measurement set as YAML mappings (copies), bases applied."""
    return [dict(e) for e in _raw_sets()[check_data_set(data_set)]]


def check_data_set(data_set: str) -> str:
    """``data_set`` as a string, or LikelihoodConfigError with a did-you-mean."""
    ds = str(data_set)
    if ds not in MEASUREMENT_SETS:
        raise LikelihoodConfigError(f"unknown measurement set {data_set!r}"
                                    f"{did_you_mean(ds, MEASUREMENT_SETS)}; choose one of "
                                    f"{', '.join(MEASUREMENT_SETS)}")
    return ds


def load_measurements(data_set: str, extra: Sequence[Mapping[str, Any]] = ()) -> tuple[MeasurementEntry, ...]:
    """All entries of a measurement set (enabled or not), in file order.

    extra: user entries in the schema of the data file (a run file's measurements file), merged over the set by
    :func:`merge_entries`: a known name replaces the keys it gives, a new name adds a term (with every required
    key). MeasurementDataError names the entry and what is wrong with it.
    """
    if not extra:
        return _load_all()[check_data_set(data_set)]
    return _parse_set(merge_entries(raw_entries(data_set), extra), f"set {data_set!r} with the user's measurements")


def available_terms(data_set: str, extra: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """Names of every term of a measurement set (with ``extra`` user entries), enabled or not."""
    return [e.name for e in load_measurements(data_set, extra)]


def set_description(data_set: str) -> str:
    text = resources.files("likelihoods.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return str(yaml.safe_load(text)["sets"][check_data_set(data_set)].get("description", "")).strip()
