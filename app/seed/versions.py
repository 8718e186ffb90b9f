"""Which facts a load adds, changes and removes, and the versions each fact carries.

A fact is identified by its kind and id; it has changed when its curated form in the seed
(or, for a source, its stored text) hashes differently from the last load.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from app.seed.verify import Seed

# Seed section -> the kind of fact (and of document) it holds.
FACT_KINDS = {
    "dialogues": "dialogue",
    "participations": "participation",
    "context_events": "context_event",
    "commitments": "commitment",
    "statements": "statement",
    "indicators": "indicator",
    "people": "person",
    "series": "series",
    "entities": "entity",
    "areas": "area",
    "countries": "country",
    "sources": "source",
}

Key = tuple[str, str]


@dataclass(frozen=True)
class FactState:
    first_seen: int
    last_changed: int
    removed_in: int | None
    content_sha256: str


def fact_hashes(seed: Seed) -> dict[Key, str]:
    hashes = {}
    for section, kind in FACT_KINDS.items():
        for key, fact in seed.sections[section].items():
            content = fact.model_dump_json() + (seed.texts.get(key, "") if kind == "source" else "")
            hashes[(kind, str(key))] = hashlib.sha256(content.encode()).hexdigest()
    return hashes


def plan(
    existing: dict[Key, FactState], hashes: dict[Key, str], version: int
) -> dict[Key, FactState]:
    """Every fact's state after loading `hashes` as `version`, removed ones included."""
    states: dict[Key, FactState] = {}
    for key, sha in hashes.items():
        old = existing.get(key)
        if old is None:
            states[key] = FactState(version, version, None, sha)
        elif old.removed_in is not None or old.content_sha256 != sha:
            states[key] = FactState(old.first_seen, version, None, sha)
        else:
            states[key] = old
    for key, old in existing.items():
        if key not in hashes:
            gone = (
                old
                if old.removed_in is not None
                else FactState(old.first_seen, version, version, old.content_sha256)
            )
            states[key] = gone
    return states


def as_rows(states: dict[Key, FactState]) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "key": key, **state.__dict__}
        for (kind, key), state in sorted(states.items())
    ]
