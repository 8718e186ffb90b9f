"""The curated seed format: what a facts file (YAML) may say, validated by pydantic.

A seed is every `*.yaml` file in the seed folder, merged section by section. Each fact
names its evidence: the exact words of a stored source at their offsets (`verbatim`), or
a cited page that is not stored (`citation`). The checks that need the whole seed (ids,
references, quotes at their offsets) live in `app.seed.verify`.
"""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CountryCode = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
Slug = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Evidence: where a fact is stated.
class EvidenceIn(SeedModel):
    source: str
    quote: str | None = None
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    role: Literal["content", "attribution"] = "content"
    field: str | None = None  # the field of the fact this span supports, when not the whole fact
    supports: str | None = None  # for a citation: what the cited page is said to support


# Vocabulary: countries, areas, entities, series, people, sources.
class CountryIn(SeedModel):
    code: str = CountryCode
    name: str


class AreaIn(SeedModel):
    slug: str = Slug
    label: str
    description: str


class EntityIn(SeedModel):
    slug: str = Slug
    name: str
    kind: Literal["agreement", "institution", "mechanism", "event", "document", "negotiation"]
    aliases: list[str] = []
    description: str | None = None


class SeriesIn(SeedModel):
    slug: str = Slug
    name: str
    aliases: list[str] = []
    countries: list[str] = Field(min_length=2, max_length=2)
    established: str | None = None  # as stated, e.g. "agreed in October 2006"
    evidence: list["EvidenceIn"] = []


class PersonIn(SeedModel):
    id: str = Slug
    name: str
    aliases: list[str] = []
    country: str = CountryCode


class ExcludedRangeIn(SeedModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: str


class SourceIn(SeedModel):
    id: str = Slug
    title: str
    publisher: str
    account_of: str | None = None  # whose account of the meeting this is (a country code)
    republished_by: str | None = None
    url: str | None = None  # where it was read (the republished copy, or the cited page)
    original_url: str | None = None  # the publisher's own address, when known
    published_as_stated: str | None = None  # e.g. "Updated: March 22, 2025 21:44"
    published_on: dt.date | None = None
    language: str = "en"
    licence: str
    file: str | None = None  # relative to the seed folder; None for a cited page
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    excluded: list[ExcludedRangeIn] = []  # page furniture: no evidence may fall in it


# Facts.
class TextWithEvidence(SeedModel):
    text: str
    evidence: list[EvidenceIn] = Field(min_length=1)


class PlannedEditionIn(SeedModel):
    as_stated: str
    host_country: str | None = None
    evidence: list[EvidenceIn] = Field(min_length=1)


class DialogueIn(SeedModel):
    id: int = Field(ge=1)
    slug: str = Slug
    series: str
    edition: int = Field(ge=1)
    title: str
    date: dt.date
    city: str
    host_country: str = CountryCode
    countries: list[str] = Field(min_length=2, max_length=2)
    departments_count: int | None = Field(default=None, ge=0)
    departments_as_stated: str | None = None
    gap_as_stated: str | None = None
    previous: int | None = None  # id of the previous edition the gap refers to
    aims: list[TextWithEvidence] = []
    planned_next: PlannedEditionIn | None = None
    evidence: list[EvidenceIn] = Field(min_length=1)


class ParticipationIn(SeedModel):
    id: int = Field(ge=1)
    dialogue: int
    person: str
    role: Literal["co-chair", "participant", "attendee"]
    title: str  # the title held then, as the source gives it
    country: str = CountryCode
    evidence: list[EvidenceIn] = Field(min_length=1)


class ContextEventIn(SeedModel):
    id: str = Slug
    dialogue: int
    title: str
    kind: str  # e.g. "leaders' meeting"
    date_as_stated: str
    year: int | None = None
    place: str | None = None
    participants: list[str] = []  # person ids
    agreed: list[str] = []
    entities: list[str] = []
    evidence: list[EvidenceIn] = Field(min_length=1)


class CommitmentIn(SeedModel):
    id: int = Field(ge=1)
    dialogue: int
    statement: str
    kind: Literal["proposal", "joint"]
    speaker: str | None = None  # person id; None for a joint outcome
    actor: str  # who is addressed or acts, as stated ("both sides", "enterprises of ...")
    point: int | None = Field(default=None, ge=1)
    heading: str | None = None
    areas: list[str] = Field(min_length=1)
    entities: list[str] = []
    evidence: list[EvidenceIn] = Field(min_length=1)


class StatementIn(SeedModel):
    """An assessment that commits no one ("partners, not rivals")."""

    id: int = Field(ge=1)
    dialogue: int
    text: str
    speaker: str | None = None
    areas: list[str] = []
    entities: list[str] = []
    evidence: list[EvidenceIn] = Field(min_length=1)


class IndicatorIn(SeedModel):
    id: int = Field(ge=1)
    dialogue: int
    measure: str
    countries: list[str] = Field(min_length=1)
    value: float
    unit: str  # ISO 4217 code for money ("USD"), else a unit word ("times", "years")
    comparator: str | None = None  # in the source's words: "more than", "nearly"
    period_as_stated: str | None = None
    date_stated: dt.date | None = None
    stated_by: str | None = None  # person id
    evidence: list[EvidenceIn] = Field(min_length=1)


class SeedFile(SeedModel):
    """One YAML file; every section is optional, and the files of a seed are merged."""

    countries: list[CountryIn] = []
    areas: list[AreaIn] = []
    entities: list[EntityIn] = []
    series: list[SeriesIn] = []
    people: list[PersonIn] = []
    sources: list[SourceIn] = []
    dialogues: list[DialogueIn] = []
    participations: list[ParticipationIn] = []
    context_events: list[ContextEventIn] = []
    commitments: list[CommitmentIn] = []
    statements: list[StatementIn] = []
    indicators: list[IndicatorIn] = []
