"""The tables. Alembic's migrations are made from these; clients never see them directly.

Facts live in normalised tables (for filters and sorting). What a client reads of each
resource is built once, at load time, into `document` rows, so a read is one lean query.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.db import metadata

__all__ = ["metadata"]


def json_column() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# Vocabulary
class Country(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=2)
    name: str


class Area(SQLModel, table=True):
    slug: str = Field(primary_key=True)
    label: str
    description: str


class Entity(SQLModel, table=True):
    slug: str = Field(primary_key=True)
    name: str
    kind: str
    aliases: list[str] = json_column()
    description: str | None = None


class Series(SQLModel, table=True):
    slug: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_column()
    country_a: str = Field(foreign_key="country.code")
    country_b: str = Field(foreign_key="country.code")
    established: str | None = None


class Person(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_column()
    country: str = Field(foreign_key="country.code")


# Sources and the evidence drawn from them
class Source(SQLModel, table=True):
    id: str = Field(primary_key=True)
    kind: str  # "document" (text stored, quotes verified) or "citation" (cited by address)
    title: str
    publisher: str
    account_of: str | None = Field(default=None, foreign_key="country.code")
    republished_by: str | None = None
    url: str | None = None
    original_url: str | None = None
    published_as_stated: str | None = None
    published_on: dt.date | None = None
    language: str
    licence: str
    text: str | None = Field(default=None, sa_column=Column(Text))
    sha256: str | None = None


class SourceExclusion(SQLModel, table=True):
    __tablename__ = "source_exclusion"
    source_id: str = Field(foreign_key="source.id", primary_key=True)
    start: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    end: int
    label: str


class Evidence(SQLModel, table=True):
    fact_type: str = Field(primary_key=True)  # "dialogue", "commitment", ...
    fact_id: str = Field(primary_key=True)
    position: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    field: str | None = None
    source_id: str = Field(foreign_key="source.id", index=True)
    role: str  # "content" or "attribution"
    verification: str  # "verbatim" or "citation"
    quote: str | None = Field(default=None, sa_column=Column(Text))
    start: int | None = None
    end: int | None = None
    supports: str | None = None


# Dialogues and who took part
class Dialogue(SQLModel, table=True):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    slug: str = Field(unique=True)
    series_slug: str = Field(foreign_key="series.slug", index=True)
    edition: int
    title: str
    date: dt.date = Field(index=True)
    city: str
    host_country: str = Field(foreign_key="country.code")
    country_a: str = Field(foreign_key="country.code")
    country_b: str = Field(foreign_key="country.code")
    departments_count: int | None = None
    departments_as_stated: str | None = None
    gap_as_stated: str | None = None
    previous_id: int | None = Field(default=None, foreign_key="dialogue.id")
    planned_next_as_stated: str | None = None
    planned_next_host: str | None = None


class DialogueAim(SQLModel, table=True):
    __tablename__ = "dialogue_aim"
    dialogue_id: int = Field(foreign_key="dialogue.id", primary_key=True)
    position: int = Field(primary_key=True)
    text: str


class Participation(SQLModel, table=True):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    dialogue_id: int = Field(foreign_key="dialogue.id", index=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    role: str
    title: str
    country: str = Field(foreign_key="country.code")


class ContextEvent(SQLModel, table=True):
    __tablename__ = "context_event"
    id: str = Field(primary_key=True)
    dialogue_id: int = Field(foreign_key="dialogue.id", index=True)
    title: str
    kind: str
    date_as_stated: str
    year: int | None = None
    place: str | None = None
    participants: list[str] = json_column()
    agreed: list[str] = json_column()


# What was proposed, agreed, assessed and quoted
class Commitment(SQLModel, table=True):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    dialogue_id: int = Field(foreign_key="dialogue.id", index=True)
    statement: str
    kind: str = Field(index=True)
    speaker_id: str | None = Field(default=None, foreign_key="person.id")
    speaker_country: str | None = Field(default=None, foreign_key="country.code")
    narrator: str
    actor: str
    point: int | None = None
    heading: str | None = None


class CommitmentArea(SQLModel, table=True):
    __tablename__ = "commitment_area"
    # Walks an area's commitments in id order: a filtered list's page costs its length.
    __table_args__ = (
        Index("ix_commitment_area_area_slug_commitment", "area_slug", "commitment_id"),
    )
    commitment_id: int = Field(foreign_key="commitment.id", primary_key=True)
    area_slug: str = Field(foreign_key="area.slug", primary_key=True)


class CommitmentCountry(SQLModel, table=True):
    """The countries whose side made a commitment: the speaker's, or both for a joint one."""

    __tablename__ = "commitment_country"
    __table_args__ = (
        Index("ix_commitment_country_country_commitment", "country", "commitment_id"),
    )
    commitment_id: int = Field(foreign_key="commitment.id", primary_key=True)
    country: str = Field(foreign_key="country.code", primary_key=True)


class Statement(SQLModel, table=True):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    dialogue_id: int = Field(foreign_key="dialogue.id", index=True)
    text: str
    speaker_id: str | None = Field(default=None, foreign_key="person.id")
    areas: list[str] = json_column()


class Indicator(SQLModel, table=True):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    dialogue_id: int = Field(foreign_key="dialogue.id", index=True)
    measure: str
    value: float
    unit: str = Field(index=True)
    comparator: str | None = None
    period_as_stated: str | None = None
    date_stated: dt.date | None = None
    stated_by: str | None = Field(default=None, foreign_key="person.id")


class IndicatorCountry(SQLModel, table=True):
    __tablename__ = "indicator_country"
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)
    country: str = Field(foreign_key="country.code", primary_key=True, index=True)


class Mention(SQLModel, table=True):
    """A fact that names an entity (RCEP, the WTO, ...)."""

    __table_args__ = (Index("ix_mention_entity_slug_fact", "entity_slug", "fact_type", "fact_id"),)

    fact_type: str = Field(primary_key=True)
    fact_id: str = Field(primary_key=True)
    entity_slug: str = Field(foreign_key="entity.slug", primary_key=True)


# What clients read, built at load time, and which load it came from
class Document(SQLModel, table=True):
    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    body: str = Field(sa_column=Column(Text, nullable=False))


class ListTotal(SQLModel, table=True):
    """How many items a list holds, unfiltered and under each one-value filter (`area`,
    `digital`), counted at load time: a list's total costs one lookup at any size."""

    __tablename__ = "list_total"
    list: str = Field(primary_key=True)  # "commitments"
    filter: str = Field(primary_key=True)  # "" for the whole list, else a query parameter
    value: str = Field(primary_key=True)  # "" for the whole list
    total: int


class DatasetVersion(SQLModel, table=True):
    __tablename__ = "dataset_version"
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    loaded_at: dt.datetime
    seed_sha256: str
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SearchEntry(SQLModel, table=True):
    """One searchable passage: a fact's words, or a paragraph of a source's text.

    SQLite indexes it with FTS5 (`search_fts`), PostgreSQL with a GIN full-text index;
    both are made by the migration, outside these models."""

    __tablename__ = "search_entry"
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(index=True)  # "commitment", "indicator", "dialogue", "statement", "source"
    key: str
    title: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str


class FactVersion(SQLModel, table=True):
    """Each fact's history across loads: kept, unlike the facts, when a new seed is loaded."""

    __tablename__ = "fact_version"
    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    first_seen: int
    last_changed: int = Field(index=True)
    removed_in: int | None = Field(default=None, index=True)
    content_sha256: str
