"""A run file's own measurements: ``likelihood.measurements`` names a YAML file of entries in the schema of
``likelihoods/data/measurements.yaml`` that replace or add terms of the chosen measurement set.

    likelihood:
      data: "2023"
      measurements: my_measurements.yaml      # relative to the run file's folder

    # my_measurements.yaml
    schema: 1
    entries:
      - name: "BR(B+->K+nunu)"                # a term of the set: the keys given replace the shipped ones
        data: {central: 2.7e-5, error: 0.5e-5}
        source: "arXiv:2311.14647"
      - name: "my new limit"                   # a new name: a new term, with every key a shipped entry has
        observable: ...

The file is checked as strictly as the run file (unknown keys with a did-you-mean, types, observables, sources,
repeated names) and every error names the file, the key path and its line. The resolved run file (results'
``run.yaml``) carries the file's path, its SHA-256 and the entries themselves, so a result says which numbers
it used even after the file changes, and a resumed run sees a changed file as a changed run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.config.checks import KeyPath, Source, type_name
from inference.config.strict_yaml import read_yaml
from inference.errors import closest, suggestion

FILE_KEYS = ("schema", "description", "entries")
RESOLVED_KEYS = ("file", "sha256", "entries")
APPLIES_TO = ("total", "np")
SCHEMA = 1
# keys whose change alters the numbers of a term: an entry that gives one must say where the number is from
_NUMBER_KEYS = ("data", "sm", "window")


@dataclass(frozen=True)
class MeasurementsFile:
    """The user's entries (plain YAML data, checked), where they came from and what they change."""

    file: str
    sha256: str
    entries: tuple[dict[str, Any], ...]
    replaced: tuple[str, ...]
    added: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "entries": [dict(e) for e in self.entries]}


def parse_measurements(value: Any, src: Source, data_set: str) -> MeasurementsFile:
    """``likelihood.measurements`` -> MeasurementsFile: a path (relative to the run file's folder) or the resolved
    form ``{file, sha256, entries}`` a results folder's run.yaml holds (its entries are then used as written)."""
    path: KeyPath = ("likelihood", "measurements")
    if isinstance(value, Mapping):
        src.mapping(value, path, "likelihood.measurements", "measurements: my_measurements.yaml")
        src.known_keys(value, path, RESOLVED_KEYS)
        entries = src.required(value, path, "entries", "Give the entries, or write measurements: FILE.yaml")
        recorded = src.string(value.get("file", "(inline)"), (*path, "file"))
        digest = src.string(value.get("sha256", ""), (*path, "sha256"))
        return _check_entries(entries, src, (*path, "entries"), data_set, recorded, digest)
    text = src.string(value, path, hint="Write the path of a YAML file, such as measurements: my_measurements.yaml")
    file = _resolve_path(text, src)
    if not file.is_file():
        src.fail(path, f"the measurements file {str(file)!r} does not exist" if not file.exists()
                 else f"{str(file)!r} is not a regular file",
                 "Give the path of a YAML file of measurement entries, relative to the run file's folder")
    raw_bytes = file.read_bytes()
    if not raw_bytes.strip():
        src.fail(path, f"the measurements file {str(file)!r} is empty",
                 "Write 'schema: 1' and 'entries:' with at least one entry (see the README)")
    data, lines = read_yaml(file)  # syntax errors, repeated keys and tags: RunConfigError naming that file
    fsrc = Source(str(file), lines)
    top = fsrc.mapping(data, (), "a measurements file", "schema: 1, entries: [...]")
    fsrc.known_keys(top, (), FILE_KEYS)
    if top.get("schema") != SCHEMA:
        fsrc.fail(("schema",), f"expected schema: {SCHEMA}, got {top.get('schema')!r}",
                  f"Write schema: {SCHEMA} (the schema of likelihoods/data/measurements.yaml)")
    if "description" in top:
        fsrc.string(top["description"], ("description",))
    entries = fsrc.required(top, (), "entries", "Add entries: with a list of measurement entries")
    return _check_entries(entries, fsrc, ("entries",), data_set, str(file.resolve()),
                          hashlib.sha256(raw_bytes).hexdigest())


def _resolve_path(text: str, src: Source) -> Path:
    path = Path(text).expanduser()
    if path.is_absolute() or src.file.startswith("<"):
        return path
    return Path(src.file).parent / path


def _check_entries(entries: Any, src: Source, path: KeyPath, data_set: str, file: str,
                   digest: str) -> MeasurementsFile:
    import likelihoods

    if not isinstance(entries, list) or not entries:
        src.fail(path, "entries must be a non-empty list of measurement entries",
                 "Write each entry as a '- name: ...' item (see likelihoods/data/measurements.yaml)")
    shipped = likelihoods.available_terms(data_set)
    seen: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(entries):
        epath = (*path, i)
        entry = dict(src.mapping(raw, epath, "a measurement entry", "{name: ..., data: {...}, source: ...}"))
        src.known_keys(entry, epath, likelihoods.ENTRY_KEYS, "entry key")
        name = src.string(src.required(entry, epath, "name", "Give the term's name"), (*epath, "name"))
        if name in seen:
            src.fail((*epath, "name"), f"the name {name!r} appears twice in this file (entries {seen[name]} and {i})",
                     "Merge the two entries into one")
        seen[name] = i
        if name not in shipped:
            missing = [k for k in likelihoods.REQUIRED_ENTRY_KEYS if k not in entry]
            if missing:
                close = closest(name, shipped)
                src.fail(epath, f"{name!r} is not a term of measurement set {data_set!r}, so it is a new term, "
                         f"which needs {', '.join(missing)}", "Add them (a new term needs every key of a shipped "
                         "entry), or give the exact name of a shipped term to change it"
                         + (f": did you mean {close!r}?" if close else ""))
        elif any(k in entry for k in _NUMBER_KEYS) and "source" not in entry:
            src.fail(epath, f"the entry changes the numbers of {name!r} but gives no source",
                     "Add source: with the arXiv id, PDG edition or DOI of the new numbers")
        _check_fields(entry, src, epath)
        out.append(entry)
    try:
        likelihoods.load_measurements(data_set, out)
    except (likelihoods.MeasurementDataError, likelihoods.LikelihoodConfigError) as exc:
        named = exc.entry if isinstance(exc, likelihoods.MeasurementDataError) else exc.term
        bad = next((i for i, e in enumerate(out) if e["name"] == named), None)
        src.fail(path if bad is None else (*path, bad), f"the entry cannot be used: {exc}",
                 "Check its kind, data and unit against likelihoods/data/measurements.yaml")
    return MeasurementsFile(file=file, sha256=digest, entries=tuple(out),
                            replaced=tuple(n for n in seen if n in shipped),
                            added=tuple(n for n in seen if n not in shipped))


def _check_fields(entry: Mapping[str, Any], src: Source, epath: KeyPath) -> None:
    import likelihoods
    from physics import REGISTRY

    for key in ("observable", "unit", "source", "reference", "table_row", "paper_condition", "note", "label"):
        if key in entry:
            src.string(entry[key], (*epath, key))
    if "observable" in entry and entry["observable"] not in REGISTRY:
        src.fail((*epath, "observable"), f"unknown observable {entry['observable']!r}",
                 suggestion(entry["observable"], list(REGISTRY), "a physics observable:"))
    if "applies_to" in entry:
        src.choice(entry["applies_to"], (*epath, "applies_to"), APPLIES_TO, "applies_to")
    if "kind" in entry:
        src.choice(entry["kind"], (*epath, "kind"), likelihoods.TERM_KINDS, "term kind")
    if "enabled" in entry:
        src.boolean(entry["enabled"], (*epath, "enabled"))
    if "source" in entry and not likelihoods.database.SOURCE_PATTERN.search(entry["source"]):
        src.fail((*epath, "source"), f"{entry['source']!r} is not an arXiv id, PDG edition or DOI",
                 "Write it as arXiv:2311.14647, PDG 2024 or doi:10.xxxx/...")
    if entry.get("sm") is not None and not isinstance(entry["sm"], bool):
        src.fail((*epath, "sm"), f"expected true or null, got {type_name(entry['sm'])}",
                 f"The SM values live, with their sources, in {likelihoods.database.SM_FILE}: write sm: true to "
                 "quote the observable's, or sm: null for none")
    if entry.get("data") is not None:
        block = src.mapping(entry["data"], (*epath, "data"), "data", "{central: 2.3e-5, error: 0.7e-5}")
        src.known_keys(block, (*epath, "data"), likelihoods.DATA_KEYS, "data key")
        for k, v in block.items():
            src.number(v, (*epath, "data", k), low=0.0 if k.startswith("error") else None)
