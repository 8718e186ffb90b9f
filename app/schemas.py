"""What a client sees. Built from the validated seed at load time; never a table model."""

import datetime as dt
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class Versioned(Public):
    """When a fact first appeared, and when it last changed, as dataset versions."""

    first_seen: int = Field(description="The dataset version this fact first appeared in.")
    last_changed: int = Field(description="The dataset version in which it last changed.")


# Evidence and references
class EvidencePublic(Public):
    source_id: str = Field(examples=["mfa-cn-2025-03-22"])
    verification: Literal["verbatim", "citation"] = Field(
        description="`verbatim`: the quote was checked at its offsets in the stored text; "
        "`citation`: a page cited by address, not stored."
    )
    role: Literal["content", "attribution"] = Field(
        description="`content`: the span states the fact; `attribution`: it names who said it."
    )
    field: str | None = Field(default=None, description="The field this span supports, if one.")
    quote: str | None = Field(default=None, examples=["foster a silver economy"])
    start: int | None = Field(default=None, description="Code point offset, inclusive.")
    end: int | None = Field(default=None, description="Code point offset, exclusive.")
    link: str = Field(
        description="The span (RFC 5147 `#char=start,end`) or the cited page.",
        examples=["/sources/mfa-cn-2025-03-22#char=3406,3429"],
    )
    supports: str | None = Field(default=None, description="What a cited page supports.")


class PersonRef(Public):
    id: str = Field(examples=["wang-yi"])
    name: str = Field(examples=["Wang Yi"])
    country: str = Field(examples=["CN"])


class AreaPublic(Versioned):
    slug: str = Field(examples=["digital"])
    label: str = Field(examples=["Digital economy"])
    description: str
    commitments: int = Field(description="How many commitments carry this area.")


class CountryPublic(Versioned):
    code: str = Field(examples=["JP"])
    name: str = Field(examples=["Japan"])
    dialogues: int
    commitments: int
    people: int


# Facts
class ParticipationPublic(Versioned):
    id: int
    dialogue_id: int
    person: PersonRef
    role: str = Field(examples=["co-chair"])
    title: str = Field(description="The title held then, as the source gives it.")
    country: str
    evidence: list[EvidencePublic]


class ContextEventPublic(Versioned):
    id: str = Field(examples=["lima-leaders-meeting-2024"])
    dialogue_id: int
    title: str
    kind: str
    date_as_stated: str = Field(examples=["at the end of last year"])
    year: int | None
    place: str | None
    participants: list[PersonRef]
    agreed: list[str]
    entities: list[str]
    evidence: list[EvidencePublic]


class CommitmentPublic(Versioned):
    id: int
    dialogue_id: int
    statement: str
    kind: Literal["proposal", "joint"] = Field(
        description="`proposal`: one side's call; `joint`: what both sides reached or agreed."
    )
    speaker: PersonRef | None
    speaker_country: str | None
    narrator: str = Field(description="Whose account reports it (the source's publisher).")
    actor: str = Field(description="Who is addressed or acts, as stated.", examples=["both sides"])
    countries: list[str] = Field(description="Whose side made it: the speaker's, or both.")
    point: int | None = Field(description="The source's own numbering, if any.")
    heading: str | None
    areas: list[str] = Field(examples=[["ai", "digital", "green"]])
    entities: list[str] = Field(examples=[["rcep"]])
    evidence: list[EvidencePublic]


class StatementPublic(Versioned):
    id: int
    dialogue_id: int
    text: str
    speaker: PersonRef | None
    areas: list[str]
    entities: list[str]
    evidence: list[EvidencePublic]


class IndicatorPublic(Versioned):
    id: int
    dialogue_id: int
    measure: str
    countries: list[str]
    value: float
    unit: str = Field(description="ISO 4217 for money (`USD`), else a unit word (`times`).")
    comparator: str | None = Field(examples=["nearly"])
    period_as_stated: str | None
    date_stated: dt.date | None
    stated_by: PersonRef | None
    evidence: list[EvidencePublic]


class AimPublic(Public):
    text: str
    evidence: list[EvidencePublic]


class PlannedEditionPublic(Public):
    as_stated: str
    host_country: str | None
    evidence: list[EvidencePublic]


class SourceRef(Public):
    id: str
    title: str
    publisher: str
    url: str | None
    kind: Literal["document", "citation"]


class DialogueSummary(Versioned):
    id: int = Field(examples=[6])
    slug: str = Field(examples=["china-japan-high-level-economic-dialogue-6"])
    series: str
    edition: int
    title: str
    date: dt.date
    city: str
    host_country: str
    countries: list[str]


class DialogueDetail(DialogueSummary):
    departments_count: int | None
    departments_as_stated: str | None
    gap_as_stated: str | None
    previous_id: int | None
    aims: list[AimPublic]
    planned_next: PlannedEditionPublic | None
    participations: list[ParticipationPublic]
    context_events: list[ContextEventPublic]
    commitments: list[CommitmentPublic]
    statements: list[StatementPublic]
    indicators: list[IndicatorPublic]
    sources: list[SourceRef]
    evidence: list[EvidencePublic]


class SeriesPublic(Versioned):
    slug: str
    name: str
    aliases: list[str]
    countries: list[str]
    established: str | None
    editions: list[DialogueSummary]
    evidence: list[EvidencePublic]


class PersonPublic(Versioned):
    id: str
    name: str
    aliases: list[str]
    country: str
    participations: list[ParticipationPublic]
    commitments: list[CommitmentPublic]
    statements: list[StatementPublic]
    indicators: list[IndicatorPublic]


ENTITY_FACTS = 50  # an entity's document embeds at most this many facts of each kind


class EntityTotals(Public):
    commitments: int = Field(description="Commitments that name the entity.")
    statements: int = Field(description="Statements that name it.")
    context_events: int = Field(description="Context events that name it.")


class EntityPublic(Versioned):
    slug: str
    name: str
    kind: str
    aliases: list[str]
    description: str | None
    commitments: list[CommitmentPublic] = Field(
        description=f"The first {ENTITY_FACTS} that name it, by id; all of them: "
        "`/commitments?mentions={slug}`."
    )
    statements: list[StatementPublic] = Field(
        description=f"The first {ENTITY_FACTS} that name it, by id; all of them: "
        "`/statements?mentions={slug}`."
    )
    context_events: list[ContextEventPublic] = Field(
        description=f"The first {ENTITY_FACTS} that name it, by id."
    )
    totals: EntityTotals = Field(
        description=f"How many facts of each kind name it (the lists stop at {ENTITY_FACTS})."
    )


class ExcludedRange(Public):
    start: int
    end: int
    label: str


class SourcePublic(Versioned):
    id: str
    kind: Literal["document", "citation"]
    title: str
    publisher: str
    account_of: str | None
    republished_by: str | None
    url: str | None
    original_url: str | None
    published_as_stated: str | None
    published_on: dt.date | None
    language: str
    licence: str
    sha256: str | None
    length: int | None = Field(description="Length of the text in code points.")


class SourceSpan(Public):
    """One evidence span of a source, with the fact it supports."""

    fact_type: str = Field(examples=["commitment"])
    fact_id: str = Field(examples=["7"])
    fact: str = Field(description="Where the fact is served.", examples=["/commitments/7"])
    role: Literal["content", "attribution"]
    field: str | None
    quote: str | None
    start: int | None
    end: int | None
    link: str
    supports: str | None


class SourceDetail(SourcePublic):
    text: str | None
    excluded: list[ExcludedRange]
    evidence: list[SourceSpan]


class Page(Public, Generic[T]):
    total: int = Field(description="How many items match (at most 10,000; see total_relation).")
    total_relation: Literal["eq", "gte"] = Field(
        default="eq", description="`eq`: total is exact; `gte`: more match, total is a lower bound."
    )
    limit: int
    offset: int
    next: str | None = Field(default=None, description="The next page, or null at the end.")
    items: list[T]


class Health(Public):
    status: str = Field(examples=["ok"])


class Ready(Public):
    status: str = Field(examples=["ready"])
    database: str = Field(examples=["up"], description="`up` or `down`.")
    schema_revision: str | None = Field(default=None, description="The migration applied.")
    schema_at_head: bool = False
    dataset_version: int | None


class Problem(Public):
    """An error, in the shape of RFC 9457 (problem details)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, object]] | None = None
