"""Physical constants and hadronic inputs, read once from ``physics/data/constants.yaml``.

Every number lives in the data file with its unit and source; this module only loads it.
Access is by attribute (``CONST.m_t``) or by name (``CONST["m_t"]``); ``CONST.source("m_t")``
gives the citation. :data:`VALUES` holds the same numbers as a NamedTuple, the form the formulas marked
``physics.jit.shared`` read (numba freezes a module-level NamedTuple into compiled code).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Entry:
    """One constant: value in the unit stated, and where it comes from."""

    value: float
    unit: str
    source: str


class Constants:
    """Read-only mapping of constant name -> value (GeV units unless the entry says otherwise)."""

    def __init__(self, entries: dict[str, Entry]):
        self._entries = dict(entries)

    def __getattr__(self, name: str) -> float:
        try:
            return self._entries[name].value
        except KeyError:
            raise AttributeError(f"no constant named {name!r} in physics/data/constants.yaml") from None

    def __getitem__(self, name: str) -> float:
        return self.__getattr__(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entry(self, name: str) -> Entry:
        return self._entries[name]

    def source(self, name: str) -> str:
        return self._entries[name].source

    def values(self) -> Any:
        """Every value as one NamedTuple, fields in the file's order (GeV units unless the entry says otherwise)."""
        record = collections.namedtuple("ConstantValues", list(self._entries))  # type: ignore[misc]
        return record(*(e.value for e in self._entries.values()))


def _load_yaml(filename: str) -> dict[str, Any]:
    text = resources.files("physics.data").joinpath(filename).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"physics/data/{filename}: expected a mapping at the top level")
    return data


@cache
def load_constants() -> Constants:
    raw = _load_yaml("constants.yaml")
    entries = {}
    for name, item in raw.items():
        missing = {"value", "unit", "source"} - set(item)
        if missing:
            raise ValueError(f"physics/data/constants.yaml: entry {name!r} lacks {sorted(missing)}")
        entries[name] = Entry(float(item["value"]), str(item["unit"]), str(item["source"]))
    return Constants(entries)


@dataclass(frozen=True)
class SMPrediction:
    """Standard Model value of an observable with its (possibly asymmetric) error and source.

    The one record of an SM value (``physics/data/sm_predictions.yaml``): physics adds ``value`` to the NP part,
    and a likelihood term whose measurement entry says ``sm: true`` quotes this same record.
    """

    value: float
    error_up: float
    error_down: float
    source: str
    unit: str = "1"


@cache
def load_sm_predictions() -> dict[str, SMPrediction]:
    raw = _load_yaml("sm_predictions.yaml")
    out = {}
    for name, item in raw.items():
        up = item.get("error_up", item.get("error"))
        down = item.get("error_down", item.get("error"))
        if up is None or down is None or "source" not in item:
            raise ValueError(f"physics/data/sm_predictions.yaml: entry {name!r} needs an error and a source")
        out[name] = SMPrediction(float(item["value"]), float(up), float(down), str(item["source"]),
                                 str(item.get("unit", "1")))
    return out


CONST = load_constants()
#: the same numbers as one NamedTuple (``VALUES.m_t``), for formulas compiled into the physics kernel
VALUES = CONST.values()
