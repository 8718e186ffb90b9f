"""Read a seed folder and check it whole: ids, references, checksums, and every quote at its offsets.

Nothing here touches the database. A seed that passes is a `Seed`; one that does not raises
`SeedError` listing every problem with its file, its fact and the reason.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.seed.format import EvidenceIn, SeedFile, SourceIn

SECTIONS = tuple(SeedFile.model_fields)
KEY_OF = {"countries": "code", "areas": "slug", "entities": "slug", "series": "slug"}


@dataclass(frozen=True)
class Problem:
    file: str
    fact: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.fact}: {self.reason}"


class SeedError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def report(self, what: str) -> str:
        """The refusal as the load commands print it: a summary, then one problem a line."""
        head = f"{what} refused: {len(self.problems)} problem(s); the database was not changed"
        return "\n".join([head, *(f"  {problem}" for problem in self.problems)])


@dataclass
class Seed:
    """The merged, verified seed: every section as {id: fact}, plus each fact's file."""

    folder: Path
    sections: dict[str, dict[Any, Any]]
    origin: dict[tuple[str, Any], str]
    texts: dict[str, str]  # source id -> its text, for sources stored as files
    checksum: str
    problems: list[Problem] = field(default_factory=list)

    def __getattr__(self, name: str) -> dict[Any, Any]:
        try:
            return self.__dict__["sections"][name]
        except KeyError:
            raise AttributeError(name) from None


def fact_key(section: str, fact: BaseModel) -> Any:
    return getattr(fact, KEY_OF.get(section, "id"))


def read_seed(folder: Path) -> Seed:
    """Parse, merge and verify every `*.yaml` in `folder`; raise SeedError on any problem."""
    files = sorted(folder.glob("*.yaml"))
    problems: list[Problem] = []
    if not files:
        raise SeedError([Problem(str(folder), "-", "no *.yaml seed files found")])
    sections: dict[str, dict[Any, Any]] = {name: {} for name in SECTIONS}
    origin: dict[tuple[str, Any], str] = {}
    digest = hashlib.sha256()
    for path in files:
        raw_bytes = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw_bytes + b"\0")
        parsed = _parse(path, raw_bytes, problems)
        if parsed is None:
            continue
        for section in SECTIONS:
            for fact in getattr(parsed, section):
                key = fact_key(section, fact)
                if key in sections[section]:
                    first = origin[(section, key)]
                    problems.append(
                        Problem(path.name, _label(section, key), f"duplicate id (first in {first})")
                    )
                    continue
                sections[section][key] = fact
                origin[(section, key)] = path.name
    seed = Seed(folder, sections, origin, {}, "", problems)
    _load_texts(seed, digest)
    seed.checksum = digest.hexdigest()
    _check_references(seed)
    _check_evidence(seed)
    if seed.problems:
        raise SeedError(seed.problems)
    return seed


def _parse(path: Path, raw: bytes, problems: list[Problem]) -> SeedFile | None:
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(Problem(path.name, "-", f"not valid YAML: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path.name, "-", "a seed file must be a mapping of sections"))
        return None
    try:
        return SeedFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            fact = _fact_at(data, loc)
            where = ".".join(str(part) for part in loc)
            problems.append(Problem(path.name, fact, f"{where}: {err['msg']}"))
        return None


def _fact_at(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Name the fact a validation error is about by its id, when it has one."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        try:
            item = data[loc[0]][loc[1]]
            key = item.get(KEY_OF.get(str(loc[0]), "id")) if isinstance(item, dict) else None
        except (KeyError, IndexError, TypeError):
            key = None
        if key is not None:
            return _label(str(loc[0]), key)
        return f"{loc[0]}[{loc[1]}]"
    return str(loc[0]) if loc else "-"


def _label(section: str, key: Any) -> str:
    return f"{section}[{key!r}]"


def _load_texts(seed: Seed, digest: "hashlib._Hash") -> None:
    for source in seed.sources.values():
        where = (seed.origin[("sources", source.id)], _label("sources", source.id))
        if source.file is None:
            if source.sha256 or source.excluded:
                seed.problems.append(Problem(*where, "a cited source has no file to checksum"))
            continue
        path = seed.folder / source.file
        try:
            raw = path.read_bytes()
        except OSError as exc:
            seed.problems.append(Problem(*where, f"cannot read {source.file}: {exc.strerror}"))
            continue
        digest.update(source.file.encode() + b"\0" + raw + b"\0")
        actual = hashlib.sha256(raw).hexdigest()
        if actual != source.sha256:
            seed.problems.append(
                Problem(*where, f"checksum mismatch: file has {actual}, seed says {source.sha256}")
            )
            continue
        try:
            seed.texts[source.id] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            seed.problems.append(Problem(*where, f"{source.file} is not UTF-8: {exc}"))
            continue
        length = len(seed.texts[source.id])
        for rng in source.excluded:
            if not rng.start < rng.end <= length:
                seed.problems.append(
                    Problem(*where, f"excluded range {rng.start}-{rng.end} is not inside the text")
                )


def _refs(seed: Seed) -> Iterator[tuple[str, Any, str, str, Any]]:
    """Every reference in the seed: (section, key, what it names, the target section, value)."""
    for s in seed.series.values():
        for c in s.countries:
            yield "series", s.slug, "country", "countries", c
    for p in seed.people.values():
        yield "people", p.id, "country", "countries", p.country
    for s in seed.sources.values():
        if s.account_of:
            yield "sources", s.id, "account_of", "countries", s.account_of
    for d in seed.dialogues.values():
        yield "dialogues", d.id, "series", "series", d.series
        for c in [d.host_country, *d.countries]:
            yield "dialogues", d.id, "country", "countries", c
        if d.previous is not None:
            yield "dialogues", d.id, "previous", "dialogues", d.previous
        if d.planned_next and d.planned_next.host_country:
            yield "dialogues", d.id, "planned_next", "countries", d.planned_next.host_country
    for p in seed.participations.values():
        yield "participations", p.id, "dialogue", "dialogues", p.dialogue
        yield "participations", p.id, "person", "people", p.person
        yield "participations", p.id, "country", "countries", p.country
    for e in seed.context_events.values():
        yield "context_events", e.id, "dialogue", "dialogues", e.dialogue
        for ent in e.entities:
            yield "context_events", e.id, "entity", "entities", ent
        for person in e.participants:
            yield "context_events", e.id, "participant", "people", person
    for section in ("commitments", "statements"):
        for f in seed.sections[section].values():
            yield section, f.id, "dialogue", "dialogues", f.dialogue
            if f.speaker:
                yield section, f.id, "speaker", "people", f.speaker
            for a in f.areas:
                yield section, f.id, "area", "areas", a
            for ent in f.entities:
                yield section, f.id, "entity", "entities", ent
    for i in seed.indicators.values():
        yield "indicators", i.id, "dialogue", "dialogues", i.dialogue
        for c in i.countries:
            yield "indicators", i.id, "country", "countries", c
        if i.stated_by:
            yield "indicators", i.id, "stated_by", "people", i.stated_by


def _check_references(seed: Seed) -> None:
    for section, key, what, target, value in _refs(seed):
        if value not in seed.sections[target]:
            seed.problems.append(
                Problem(
                    seed.origin[(section, key)],
                    _label(section, key),
                    f"unknown {what} {value!r} (no such {target} entry)",
                )
            )
    for d in seed.dialogues.values():
        if d.host_country not in d.countries:
            seed.problems.append(
                Problem(
                    seed.origin[("dialogues", d.id)],
                    _label("dialogues", d.id),
                    f"host country {d.host_country} is not one of {d.countries}",
                )
            )


def evidence_of(fact: Any) -> Iterable[tuple[str, EvidenceIn]]:
    """Every evidence entry of a fact, with the field path it hangs on."""
    for ev in getattr(fact, "evidence", []):
        yield "evidence", ev
    for n, aim in enumerate(getattr(fact, "aims", [])):
        for ev in aim.evidence:
            yield f"aims[{n}].evidence", ev
    planned = getattr(fact, "planned_next", None)
    if planned is not None:
        for ev in planned.evidence:
            yield "planned_next.evidence", ev


FACT_SECTIONS = (
    "series",
    "dialogues",
    "participations",
    "context_events",
    "commitments",
    "statements",
    "indicators",
)


def _check_evidence(seed: Seed) -> None:
    for section in FACT_SECTIONS:
        for key, fact in seed.sections[section].items():
            _check_fact_evidence(seed, section, key, fact)


def _check_fact_evidence(seed: Seed, section: str, key: Any, fact: Any) -> None:
    where = (seed.origin[(section, key)], _label(section, key))
    entries = list(evidence_of(fact))
    if section != "series" and not any(
        ev.role == "content" for path, ev in entries if path == "evidence"
    ):
        seed.problems.append(Problem(*where, "no content evidence: the fact cannot be traced"))
    for path, ev in entries:
        reason = check_span(seed, ev)
        if reason:
            seed.problems.append(Problem(*where, f"{path}: {reason}"))


def check_span(seed: Seed, ev: EvidenceIn) -> str | None:
    """Why this evidence cannot be traced to its source, or None when it can."""
    source: SourceIn | None = seed.sources.get(ev.source)
    if source is None:
        return f"unknown source {ev.source!r}"
    if source.file is None:
        if ev.quote is not None or ev.start is not None or ev.end is not None:
            return f"source {ev.source!r} is a citation: it has no stored text to quote"
        return None
    text = seed.texts.get(ev.source)
    if text is None:
        return f"source {ev.source!r} has no readable text"
    if ev.quote is None or ev.start is None or ev.end is None:
        return f"a quote of {ev.source!r} needs quote, start and end"
    if not ev.start < ev.end <= len(text):
        return f"offsets {ev.start}-{ev.end} are not inside the text (length {len(text)})"
    found = text[ev.start : ev.end]
    if found != ev.quote:
        return f"quote not at its offsets {ev.start}-{ev.end}: seed has {ev.quote!r}, text has {found!r}"
    for rng in source.excluded:
        if ev.start < rng.end and rng.start < ev.end:
            return f"quote {ev.start}-{ev.end} falls in page furniture ({rng.label!r})"
    return None
