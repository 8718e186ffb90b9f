"""Bulk loading: a large dataset from one JSON Lines file, checked by the curated seed's own code.

    python -m app.seed.bulk load FILE --database-url URL [--timings] [--analyze] [--workers N]
    python -m app.seed.bulk check FILE

**The format.** One JSON object per line: `{"section": S, "record": R}`, where S names a section
of the curated seed (`app.seed.format.SeedFile`: countries, areas, ..., indicators) and R is one
entry of it, exactly as a seed YAML file would hold it. A stored source carries its text in
the line (`"text": "..."`), or in its `file`, relative to the bulk file's folder.

The file is read once, block by block, so a dataset of millions of facts never sits in memory
whole:
- the lines before the first `dialogues` line are the shared part: the vocabulary (countries,
  areas, entities, series, people) and the sources any dialogue may cite;
- each `dialogues` line opens that dialogue's block: its participations, context events,
  commitments, statements and indicators, and the sources only they cite.
A record may refer to shared records and to records of its own block, and a dialogue to an
earlier one as `previous`.

**Checks.** Every record is validated by the seed's pydantic models, and the shared part and
each block are checked as a `Seed` by `app.seed.verify`'s own reference and evidence checks
(`check_span`: every quote at its offsets and outside page furniture). Ids are unique across
the file and stored texts must match their sha256. A problem names the line; any problem
refuses the whole file and leaves the database as it was (one transaction).

**Rows and documents** come from `app.seed.build.Builder`, block by block. What spans blocks
(series, people, entities, areas, countries, shared sources) is gathered as the blocks go by
and assembled at the end into the documents `Builder.build()` would make. By default the
Builder's code runs with plain dataclasses in place of the SQLModel table classes and of the
public pydantic models (same fields in the same order, same values): building a SQLModel
table instance costs ~80 µs, which would dominate a large load, and orjson writes a plain
document as the very bytes pydantic writes of the model, many times as fast (`--sqlmodel-rows`
keeps the original classes, to compare). Documents stay UTF-8 bytes from serialiser to
database, and a document made of others (a dialogue's, a person's, an entity's) splices in
their JSON rather than serialising them again.

**Processes.** With more than one core, the blocks are checked, built and serialised in worker
processes (forked once the shared part is checked and written), a chunk of whole blocks at a
time; the main process takes their rows and documents in file order and writes them, so the
database is the same byte for byte. What a worker cannot see (ids and `previous` dialogues in
other chunks) the main process checks. On any problem the load is rolled back and done again
in one process, which reports the problems in file order as it always has.

**Writing.** Each table's rows are one flat list of values, from the worker that makes them
(sent as orjson's JSON) to the database, written in large batches: on SQLite by `executemany`
of many rows a statement (SQLite's work per statement, and Python's per call, done once for
all of them), with synchronous=OFF and an in-memory journal during the load only (unlike
journal_mode=OFF it keeps ROLLBACK working, and on a fresh database it journals next to
nothing; a 64 MiB page cache); by `COPY` on PostgreSQL. The secondary indexes are dropped for
the load and made again after it, one sort each. SQLite's full-text index (FTS5) is rebuilt
beside the load: a thread keeps a copy of the search entries in a scratch database as they are
written, runs FTS5's 'rebuild' there while the other indexes are made, and its tables are
copied in (`SearchIndex`): the very rows a rebuild in the loaded database makes.
"""

import argparse
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import mmap
import multiprocessing
import operator
import os
import queue
import re
import resource
import sqlite3
import sys
import tempfile
import threading
import time
import types
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from itertools import accumulate, chain, islice
from pathlib import Path
from typing import Any, cast, get_args

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, Column, Connection, bindparam, delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import sqltypes
from sqlmodel import SQLModel

from app import models as m
from app import schemas as s
from app.db import ensure_sqlite_folder, make_engine, metadata
from app.seed.build import ENTITY_LISTS, FACTS, Builder
from app.seed.format import DialogueIn, SeedFile, SourceIn
from app.seed.load import KEPT_ACROSS_LOADS, LOAD_LOCK_KEY, LoadResult, migrate
from app.seed.totals import TABLE as TOTALS_TABLE
from app.seed.totals import refresh_totals
from app.seed.verify import (
    Problem,
    Seed,
    SeedError,
    _check_evidence,
    _check_fact_evidence,
    _check_references,
    _label,
    evidence_of,
    fact_key,
)
from app.seed.versions import FACT_KINDS, FactState, Key, plan

SECTIONS = tuple(SeedFile.model_fields)
MODELS: dict[str, type[BaseModel]] = {
    name: get_args(info.annotation)[0] for name, info in SeedFile.model_fields.items()
}
VOCABULARY = ("countries", "areas", "entities", "series", "people")
# the order a block's facts are built in, so their rows are written in (commitments first, as
# the bulk loader always has: the same rows in the same order)
BUILD_ORDER = ("commitments", "participations", "context_events", "statements", "indicators")
Factory = Callable[[], Any]
MAX_PROBLEMS = 100
BATCH_ROWS = 200_000
BATCH_BYTES = 256 * 2**20  # of documents
VALUES_PER_INSERT = 250  # an INSERT's parameters on SQLite (rows of a table: as many as fit)
# SQLite's page cache while loading (KiB): 64 MiB. A larger one (the 1 GiB this once was) only
# made the inserts slower: the documents' pages pass through it once, and are written anyway.
CACHE_KIB = -65536
SORT_CACHE_KIB = -1048576  # for the indexes made after the inserts
BYTES_AS_TEXT = {("document", "body")}  # written as UTF-8 bytes, stored as TEXT
JSON_SAFE = {  # tables whose rows orjson carries unchanged (no float: NaN would be null)
    t.name
    for t in metadata.sorted_tables
    if not any(isinstance(c.type, sqltypes.Float) for c in t.columns)
}
# How a block's first line starts (a line that starts so but turns out not to be one, say with
# a second "section" key, makes the load fall back to one process).
BLOCK_START = re.compile(rb'\{\s*"section"\s*:\s*"dialogues"')
NEXT_BLOCK = re.compile(rb'\n\{\s*"section"\s*:\s*"dialogues"')
WORKER_NICENESS = 5  # the main process, which writes, comes first
CHUNK_BYTES = 4 * 2**20  # of the file, per task of a worker process: whole blocks


# Timing, for --timings: where a load spends its time.
class Clock:
    """Time spent per phase; a phase inside another is not counted in the outer one."""

    def __init__(self) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.started = time.perf_counter()
        self.running: list[tuple[str, float]] = []
        self.elsewhere: defaultdict[str, float] = defaultdict(float)  # in worker processes

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        now = time.perf_counter()
        if self.running:
            outer, since = self.running[-1]
            self.spent[outer] += now - since
        self.running.append((phase, now))
        try:
            yield
        finally:
            now = time.perf_counter()
            _, since = self.running.pop()
            self.spent[phase] += now - since
            if self.running:
                self.running[-1] = (self.running[-1][0], now)

    def report(self) -> str:
        total = time.perf_counter() - self.started
        spent = sorted(self.spent.items(), key=lambda item: -item[1])
        lines = [f"  {phase:<28}{secs:8.2f} s" for phase, secs in spent]
        other = total - sum(self.spent.values())
        lines.append(f"  {'(other)':<28}{other:8.2f} s")
        lines.append(f"  {'total':<28}{total:8.2f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines.append(f"  {'peak RSS of the loader':<28}{peak:8.0f} MiB")
        if self.elsewhere:
            lines.append("  in the worker processes (CPU time, alongside the above):")
            spent = sorted(self.elsewhere.items(), key=lambda item: -item[1])
            lines += [f"    {phase:<26}{secs:8.2f} s" for phase, secs in spent]
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            lines.append(f"    {'peak RSS of a worker':<26}{peak:8.0f} MiB")
        return "\n".join(lines)


# A block's view of the records: its own, with the shared ones behind them.
class Layer(dict[Any, Any]):
    """A block's own records; lookups also see the shared ones, iteration only its own.

    So the seed's checks and the Builder, given a block as a `Seed`, check and build just
    that block while its references to shared records resolve."""

    def __init__(self, shared: Mapping[Any, Any]):
        super().__init__()
        self.shared = shared

    def __missing__(self, key: Any) -> Any:
        return self.shared[key]

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.shared

    def get(self, key: Any, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self.shared.get(key, default)


@dataclass
class BulkSeed(Seed):
    """A Seed whose sections are plain attributes too: `seed.sources` without calling
    `Seed.__getattr__` (the checks and the Builder ask over ten times per fact). Its sections
    are filled in place, never replaced."""

    def __post_init__(self) -> None:
        self.__dict__.update(self.sections)


# Plain rows: the Builder's own code, with light row classes in place of the table classes.
class PlainRow:
    """A row of one table as plain attributes: the fields of its SQLModel class, its defaults
    (each table's is a slotted dataclass of those fields: its generated __init__ is the
    cheapest, twice as fast as with a __dict__)."""

    __slots__ = ()
    __tablename__: str
    columns: tuple[str, ...]

    def model_dump(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.columns}


def plain_models() -> types.SimpleNamespace:
    """`app.models` with each table class replaced by a PlainRow class of the same fields."""
    names = dict(vars(m))
    for name, model in vars(m).items():
        if isinstance(model, type) and issubclass(model, SQLModel) and hasattr(model, "__table__"):
            fields: list[tuple[str, Any, Any]] = []
            for field_name, info in model.model_fields.items():
                if info.default_factory is not None:
                    spec = dataclasses.field(default_factory=cast(Factory, info.default_factory))
                elif info.is_required():
                    spec = dataclasses.field()
                else:
                    spec = dataclasses.field(default=info.default)
                fields.append((field_name, Any, spec))
            names[name] = dataclasses.make_dataclass(
                name,
                fields,
                bases=(PlainRow,),
                kw_only=True,
                eq=False,
                slots=True,
                namespace={
                    "__tablename__": str(model.__tablename__),
                    "columns": tuple(c.name for c in model.__table__.columns),
                },
            )
    return types.SimpleNamespace(**names)


def plain_schemas() -> types.SimpleNamespace:
    """`app.schemas` with each public model replaced by a dataclass of the same fields in the
    same order, with the same defaults: orjson writes one as the very bytes pydantic writes of
    the model (compact, UTF-8, same string escapes, floats and dates), without pydantic's
    validation of values the seed's models have already validated. Not slotted: orjson writes
    a dataclass from its __dict__ ~7x faster than from its slots."""
    names = dict(vars(s))
    for name, model in vars(s).items():
        if not (isinstance(model, type) and issubclass(model, s.Public)) or model is s.Public:
            continue
        if model.__pydantic_generic_metadata__["parameters"]:
            continue  # Page[T]: not a document
        fields: list[tuple[str, Any, Any]] = []
        for field_name, info in model.model_fields.items():
            if info.default_factory is not None:
                spec = dataclasses.field(default_factory=cast(Factory, info.default_factory))
            elif info.is_required():
                spec = dataclasses.field()
            elif isinstance(info.default, list | dict | set):
                spec = dataclasses.field(default_factory=info.default.copy)
            else:
                spec = dataclasses.field(default=info.default)
            fields.append((field_name, Any, spec))
        names[name] = dataclasses.make_dataclass(
            name, fields, kw_only=True, namespace={"model_dump": _shallow_dump}
        )
    return types.SimpleNamespace(**names)


def _shallow_dump(self: Any) -> dict[str, Any]:
    """A plain document's fields (nested documents as they are: they serialise the same)."""
    return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def dumps(doc: Any) -> bytes:
    """A document as JSON: pydantic's bytes for a public model, orjson's for a plain one."""
    if isinstance(doc, BaseModel):
        return doc.__pydantic_serializer__.to_json(doc)
    return orjson.dumps(doc)


FLAT_EVIDENCE = frozenset(
    model
    for model in MODELS.values()
    if "evidence" in model.model_fields and not {"aims", "planned_next"} & model.model_fields.keys()
)


def flat_evidence_of(fact: Any) -> Any:
    """`verify.evidence_of`, without asking a fact for fields its model does not have (each
    such getattr costs pydantic a raised AttributeError): just its `evidence`."""
    if type(fact) in FLAT_EVIDENCE:
        return [("evidence", ev) for ev in fact.evidence]
    return evidence_of(fact)


def rebound_function(function: Any, **names: Any) -> Any:
    """The very same function, with some of its globals replaced."""
    out = types.FunctionType(
        function.__code__,
        {**function.__globals__, **names},
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    out.__kwdefaults__ = function.__kwdefaults__
    out.__qualname__ = function.__qualname__
    return out


# verify's own evidence checks, with `flat_evidence_of`
check_fact_evidence = rebound_function(_check_fact_evidence, evidence_of=flat_evidence_of)
check_evidence = rebound_function(_check_evidence, _check_fact_evidence=check_fact_evidence)


def rebound(cls: type[Builder], **names: Any) -> type[Builder]:
    """A subclass of `cls` whose methods run the very same code with some globals replaced."""
    methods = {
        attr: rebound_function(value, **names)
        for attr, value in vars(cls).items()
        if isinstance(value, types.FunctionType)
    }
    return type(cls.__name__, (cls,), methods)


# Writing: each table's rows as one flat list of values, flushed in dependency order, in big
# batches, many rows per INSERT statement.
class Buffers:
    """Each table's rows, and the documents, as one flat list of values per table (row after
    row, in the order made): cheaper to fill, to send between processes and to insert than a
    tuple per row."""

    def __init__(self) -> None:
        self.tables = [t for t in metadata.sorted_tables if t.name != "dataset_version"]
        self.widths = {t.name: len(t.columns) for t in self.tables}
        assert min(self.widths.values()) > 1  # (attrgetter of one name returns no tuple)
        self.getters = {
            t.name: operator.attrgetter(*[c.name for c in t.columns]) for t in self.tables
        }
        self.buffers: dict[str, list[Any]] = defaultdict(list)
        self.pending = 0
        self.pending_bytes = 0

    def rows(self, rows: list[Any]) -> None:
        getters, buffers = self.getters, self.buffers
        for row in rows:
            name = row.__tablename__
            buffers[name] += getters[name](row)
        self.pending += len(rows)

    def tuples(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        self.buffers[table] += chain.from_iterable(rows)
        self.pending += len(rows)

    def document(self, kind: str, key: str, body: bytes) -> None:
        """A document's JSON as UTF-8 bytes, as the serialisers make it: SQLite stores them as
        the same TEXT (CAST), without decoding them to str and encoding them back."""
        self.buffers["document"] += (kind, key, body)
        self.pending += 1
        self.pending_bytes += len(body)

    def maybe_flush(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def packed(self) -> tuple[dict[str, Any], tuple[Any, list[int], bytes]]:
        """The rows and documents, to send to the main process: each table's values, and the
        documents' kinds and keys, `compact`; the documents' bodies as one string of bytes."""
        documents = self.buffers.get("document", [])
        rows = {
            table: compact(values, table in JSON_SAFE)
            for table, values in self.buffers.items()
            if table != "document"
        }
        names = documents[:]
        del names[2::3]
        bodies = documents[2::3]
        return rows, (compact(names), [len(b) for b in bodies], b"".join(bodies))

    def unpack(
        self, rows: dict[str, Any], documents: tuple[Any, list[int], bytes], pending: int
    ) -> None:
        """Take the rows and documents a worker made (of the blocks after those taken so far)."""
        for table, values in rows.items():
            self.buffers[table] += uncompact(values)
        packed_names, sizes, blob = documents
        names = uncompact(packed_names)
        view, ends = memoryview(blob), list(accumulate(sizes))
        out = self.buffers["document"]
        start = 0
        for kind, key, end in zip(names[0::2], names[1::2], ends, strict=True):
            out += (kind, key, view[start:end])
            start = end
        self.pending += pending
        self.pending_bytes += len(blob)


def compact(values: list[Any], json_safe: bool = True) -> bytes | list[Any]:
    """A list of values to send to another process: as orjson's JSON (~8x faster than pickling;
    str, int, None and lists of them come back as they were) unless it may hold a float (NaN
    would be null) or holds what orjson refuses (a date, an int beyond 64 bits)."""
    if json_safe:
        with suppress(orjson.JSONEncodeError):
            return orjson.dumps(values, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return values


def uncompact(values: bytes | list[Any]) -> list[Any]:
    return orjson.loads(values) if isinstance(values, bytes) else values


class Writer(Buffers):
    def __init__(
        self,
        conn: Connection,
        clock: Clock,
        search_index: "SearchIndex | None" = None,
        batch_rows: int = BATCH_ROWS,
    ):
        super().__init__()
        self.conn = conn
        self.search_index = search_index
        self.clock = clock
        self.batch_rows = batch_rows
        self.driver = driver(conn)
        self.sqlite = conn.dialect.name == "sqlite"
        self.converters = {t.name: self._converters(t.columns) for t in self.tables}
        self.counts: Counter[str] = Counter()
        self.search_id = 0

    def _converters(self, columns: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        """What SQLAlchemy would do to each value: JSON to text; on SQLite, dates to ISO text."""
        out: list[tuple[int, Callable[[Any], Any]]] = []
        for n, column in enumerate(columns):
            assert isinstance(column, Column)
            processor: Callable[[Any], Any] | None
            if self.sqlite:
                processor = column.type.bind_processor(self.conn.dialect)
            else:
                processor = json.dumps if isinstance(column.type, JSON) else None
            if processor is not None:
                out.append((n, processor))
        return out

    def maybe_flush(self) -> None:
        if self.pending >= self.batch_rows or self.pending_bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        for table in self.tables:
            values = self.buffers.pop(table.name, None)
            if not values:
                continue
            with self.clock(f"insert: {table.name}"):
                width = self.widths[table.name]
                count = len(values) // width
                if table.name == "search_entry":  # numbered across blocks, in the order made
                    values[0::width] = range(self.search_id + 1, self.search_id + count + 1)
                    self.search_id += count
                    if self.search_index is not None:
                        self.search_index.add(values)
                for n, convert in self.converters[table.name]:
                    values[n::width] = [convert(value) for value in values[n::width]]
                self._insert(table, values)
                self.counts[table.name] += count
        self.pending = self.pending_bytes = 0

    def _insert(self, table: Any, values: list[Any]) -> None:
        quote = self.conn.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c.name) for c in table.columns)
        width = len(table.columns)
        if self.sqlite:
            marks = ", ".join(
                "CAST(? AS TEXT)" if (table.name, c.name) in BYTES_AS_TEXT else "?"
                for c in table.columns
            )
            into = f"INSERT INTO {quote(table.name)} ({columns})"
            insert_rows(self.driver, into, width, values, f"({marks})")
            return
        with (
            self.driver.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy,
        ):
            rows = zip(*[iter(values)] * width, strict=True)
            if table.name == "document":
                for kind, key, body in rows:
                    copy.write_row((kind, key, str(body, "utf-8")))
                return
            for row in rows:
                copy.write_row(row)


def insert_rows(
    db: Any, into: str, width: int, values: list[Any], marks: str | None = None
) -> None:
    """Insert rows given as one flat list of values (`width` a row) on SQLite, many rows a
    statement (`marks`: one row's, plain `?`s by default): SQLite's work per statement is done
    once for all of them."""
    marks = marks or f"({', '.join('?' * width)})"
    per = max(1, VALUES_PER_INSERT // width) * width
    whole = len(values) - len(values) % per
    rows = ", ".join([marks] * (per // width))
    db.executemany(f"{into} VALUES {rows}", (values[n : n + per] for n in range(0, whole, per)))
    if whole < len(values):
        rest = ", ".join([marks] * ((len(values) - whole) // width))
        db.execute(f"{into} VALUES {rest}", values[whole:])


# What spans blocks, gathered as the blocks go by.
Parts = dict[str, list[tuple[Any, bytes]]]


class FirstFacts:
    """Of the facts taken, the first ENTITY_FACTS by id and how many were taken: what an
    entity's document embeds and counts, held in bounded memory however many name it."""

    __slots__ = ("items", "taken")

    def __init__(self) -> None:
        self.items: list[tuple[Any, bytes]] = []
        self.taken = 0

    def add(self, items: list[tuple[Any, bytes]], taken: int) -> None:
        self.items += items
        self.taken += taken
        if len(self.items) > 2 * s.ENTITY_FACTS:
            self.items = self.first()

    def first(self) -> list[tuple[Any, bytes]]:
        return sorted(self.items, key=operator.itemgetter(0))[: s.ENTITY_FACTS]


class Gathered:
    def __init__(self) -> None:
        self.area_commitments: Counter[str] = Counter()
        self.country_commitments: Counter[str] = Counter()
        self.country_dialogues: Counter[str] = Counter()
        self.person: defaultdict[str, Parts] = defaultdict(lambda: defaultdict(list))
        self.entity: defaultdict[str, defaultdict[str, FirstFacts]] = defaultdict(
            lambda: defaultdict(FirstFacts)
        )
        self.summaries: dict[int, s.DialogueSummary] = {}

    def take(self, kind: str, doc: Any, body: bytes) -> None:
        """Note what the documents built at the end need of this one (its JSON, its counts)."""
        if kind == "commitment":
            for area in set(doc.areas):
                self.area_commitments[area] += 1
            for country in set(doc.countries):
                self.country_commitments[country] += 1
            if doc.speaker is not None:
                self.person[doc.speaker.id]["commitments"].append((doc.id, body))
            for slug in set(doc.entities):
                self.entity[slug]["commitments"].add([(doc.id, body)], 1)
        elif kind == "participation":
            self.person[doc.person.id]["participations"].append((doc.id, body))
        elif kind == "statement":
            if doc.speaker is not None:
                self.person[doc.speaker.id]["statements"].append((doc.id, body))
            for slug in set(doc.entities):
                self.entity[slug]["statements"].add([(doc.id, body)], 1)
        elif kind == "indicator":
            if doc.stated_by is not None:
                self.person[doc.stated_by.id]["indicators"].append((doc.id, body))
        elif kind == "context_event":
            for slug in set(doc.entities):
                self.entity[slug]["context_events"].add([(doc.id, body)], 1)
        elif kind == "dialogue_summary":
            self.summaries[doc.id] = doc


def spliced(doc: Any, parts: Parts) -> bytes:
    """`doc` (built with empty lists) as JSON, its lists filled with already serialised items
    in key order: the JSON pydantic makes of the whole document, without holding every item."""
    body = dumps(doc)
    places = []
    for name, items in parts.items():
        empty = b'"' + name.encode() + b'":[]'
        if body.count(empty) != 1:
            raise RuntimeError(f"cannot place {name} in {type(doc).__name__}")
        items.sort(key=operator.itemgetter(0))
        places.append((body.index(empty) + len(empty) - 1, items))
    pieces, position = [], 0
    for place, items in sorted(places, key=operator.itemgetter(0)):  # at each list's "]"
        pieces += [body[position:place], b",".join([b for _, b in items])]
        position = place
    pieces.append(body[position:])
    return b"".join(pieces)


def dialogue_json(doc: Any, bodies: Mapping[tuple[str, str], bytes]) -> bytes:
    """A dialogue's document, its facts spliced in as their own documents' JSON (which they
    are, in the dialogue's document too) rather than serialised again."""
    if isinstance(doc, BaseModel):
        return dumps(doc)
    parts: Parts = {
        section: [(fact.id, bodies[(section.removesuffix("s"), str(fact.id))]) for fact in facts]
        for section in FACTS
        if (facts := getattr(doc, section))
    }
    return spliced(dataclasses.replace(doc, **{section: [] for section in parts}), parts)


LINE_KEYS = frozenset({"section", "record"})
LINE_KEYS_TEXT = frozenset({"section", "record", "text"})


def record_label(section: str, record: dict[str, Any]) -> str:
    """How a problem names a record that did not validate."""
    key = record.get("slug" if section in ("areas", "entities", "series") else "id")
    return _label(section, record.get("code") if section == "countries" else key)


def text_problems(source: SourceIn, raw: bytes) -> tuple[str | None, list[str]]:
    """A stored source's text and why it cannot be used (the checks of `verify._load_texts`)."""
    actual = hashlib.sha256(raw).hexdigest()
    if actual != source.sha256:
        return None, [f"checksum mismatch: text has {actual}, record says {source.sha256}"]
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [f"{source.file} is not UTF-8: {exc}"]
    reasons = [
        f"excluded range {rng.start}-{rng.end} is not inside the text"
        for rng in source.excluded
        if not rng.start < rng.end <= len(decoded)
    ]
    return decoded, reasons


@dataclass
class Line:
    number: int
    section: str
    record: Any
    text: str | None


@dataclass
class Block:
    """One dialogue and its facts, as a Seed the curated checks and Builder take."""

    dialogue: DialogueIn
    seed: Seed
    own_sources: dict[str, SourceIn] = field(default_factory=dict)


class Versions:
    """Each fact's versions across loads (`app.seed.versions`), planned block by block."""

    def __init__(self, existing: dict[Key, FactState], version: int):
        self.existing = existing  # what the last load left; what is seen again is taken out
        self.version = version
        self.taken: list[Key] | None = None  # in a worker: the keys seen, for the main process

    def of(self, seed: Seed) -> tuple[dict[Key, tuple[int, int]], list[tuple[Any, ...]]]:
        """For the facts of `seed` (a block's own): their versions, and their fact_version rows."""
        hashes = content_hashes(seed)
        if self.taken is not None:
            self.taken += hashes
        old = {key: self.existing.pop(key) for key in hashes if key in self.existing}
        states = plan(old, hashes, self.version)
        return {k: (v.first_seen, v.last_changed) for k, v in states.items()}, as_tuples(states)

    def removed(self) -> list[tuple[Any, ...]]:
        """The fact_version rows of the facts the file no longer has."""
        return as_tuples(plan(self.existing, {}, self.version))


def content_hashes(seed: Seed) -> dict[Key, str]:
    """`versions.fact_hashes`, hashing the bytes pydantic serialises (`model_dump_json` is
    their decoding) rather than decoding and encoding them again."""
    hashes = {}
    texts = seed.texts
    for section, kind in FACT_KINDS.items():
        for key, fact in seed.sections[section].items():
            content = fact.__pydantic_serializer__.to_json(fact)
            if kind == "source":
                content += texts.get(key, "").encode()
            hashes[(kind, str(key))] = hashlib.sha256(content).hexdigest()
    return hashes


FACT_STATE = tuple(f.name for f in dataclasses.fields(FactState))
assert ("kind", "key", *FACT_STATE) == tuple(c.name for c in m.FactVersion.__table__.columns)  # type: ignore[attr-defined]
fact_state = operator.attrgetter(*FACT_STATE)


def as_tuples(states: dict[Key, FactState]) -> list[tuple[Any, ...]]:
    """`versions.as_rows` as fact_version's tuples."""
    return [(kind, key, *fact_state(state)) for (kind, key), state in sorted(states.items())]


PLAIN_SCHEMAS = plain_schemas()


# Worker processes: each checks, builds and serialises whole blocks, a chunk of the file at a
# time; the main process takes their results in file order and writes them.
class Fallback(Exception):
    """The parallel load met something only the one-process load handles exactly (a problem
    to report in file order, or a file laid out unusually): load again in one process."""


@dataclass
class Chunk:
    offset: int  # of its first line, a dialogue line, in the file
    length: int
    first_number: int  # that line's number


@dataclass
class ChunkResult:
    problems: list[Problem]
    rows: dict[str, Any]  # see Buffers.packed
    documents: tuple[Any, list[int], bytes]  # see Buffers.packed
    pending: int
    keys: dict[str, Any]  # every record's key and line, per section (compact)
    dialogues: list[tuple[int, int | None]]  # each block's dialogue id and its `previous`
    counts: tuple[Counter[str], Counter[str], Counter[str]]  # areas', countries', dialogues'
    person: dict[str, dict[str, list[tuple[Any, bytes]]]]
    entity: dict[str, dict[str, FirstFacts]]
    summaries: dict[int, dict[str, Any]]
    shared_spans: list[tuple[tuple[Any, ...], str]]  # evidence rows citing shared sources
    version_keys: Any  # the facts' (kind, key), compact
    extras: list[tuple[int, bytes]]  # what the file's digest takes after a line: stored texts
    length: int
    lines: int
    spent: dict[str, float]


class AnyDialogue(dict[Any, Any]):
    """A worker's view of the dialogues before its chunk: any `previous` passes here, and the
    main process checks it against the dialogues of the blocks before, in file order."""

    def __contains__(self, key: object) -> bool:
        return True


class Extras:
    """A worker's stand-in for the file's digest: what a line adds to it (a source's file)."""

    def __init__(self, bulk: "Bulk", extras: list[tuple[int, bytes]]):
        self.bulk = bulk
        self.extras = extras

    def update(self, data: bytes) -> None:
        self.extras.append((self.bulk.line_end, data))


_WORKER: "Bulk | None" = None  # the Bulk a worker process inherits (fork)


def _work(chunk: Chunk) -> ChunkResult:
    assert _WORKER is not None
    return _WORKER.work(chunk)


class Bulk:
    """Reads a bulk file block by block: checks each, and with a Writer, builds and writes it."""

    def __init__(
        self,
        path: Path,
        writer: Buffers | None = None,
        versions: Versions | None = None,
        sqlmodel_rows: bool = False,
    ):
        self.path = path
        self.name = path.name
        self.writer = writer
        self.versions = versions or Versions({}, 1)
        self.clock = writer.clock if isinstance(writer, Writer) else Clock()
        self.schemas = s if sqlmodel_rows else PLAIN_SCHEMAS
        self.models = m if sqlmodel_rows else plain_models()
        self.builder_class = (
            Builder
            if sqlmodel_rows
            else rebound(Builder, m=self.models, s=PLAIN_SCHEMAS, evidence_of=flat_evidence_of)
        )
        self.problems: list[Problem] = []
        self.first_line: dict[str, dict[Any, int]] = {name: {} for name in SECTIONS}
        self.shared = BulkSeed(path.parent, {name: {} for name in SECTIONS}, {}, {}, "", [])
        self.dialogues: dict[int, DialogueIn] = {}
        self.block: Block | None = None
        self.shared_builder: Builder | None = None
        self.gathered = Gathered()
        self.digest = hashlib.sha256()
        self.lines = 0

    # Reading
    def run(self, workers: int = 0) -> None:
        """Read, check and (with a Writer) build and write the file. With `workers`, the blocks
        go to that many worker processes once the shared part is done (see `run_workers`)."""
        clock, perf_counter = self.clock, time.perf_counter
        with self.path.open("rb") as lines:
            offset = 0
            for number, raw in enumerate(lines, start=1):
                if (
                    workers
                    and self.writer is not None
                    and self.shared_builder is None
                    and not self.problems
                    and BLOCK_START.match(raw)
                ):
                    self.close_shared()  # what taking this first dialogue line would do first
                    if not self.problems:
                        self.run_workers(offset, number, workers)
                        break
                offset += len(raw)
                self.digest.update(raw)
                if not raw.strip():
                    continue
                self.lines += 1
                started = perf_counter()  # (not the Clock's context: ~1 µs a line)
                line = self.parse(number, raw)
                clock.spent["read and validate"] += perf_counter() - started
                if line is not None:
                    self.take(line)
                if len(self.problems) >= MAX_PROBLEMS:
                    self.problems.append(
                        Problem(self.path.name, "-", f"stopped after {MAX_PROBLEMS} problems")
                    )
                    break
        if len(self.problems) < MAX_PROBLEMS:
            self.close_block()
            if self.shared_builder is None:
                self.close_shared()
            self.finish()
        if self.problems:
            raise SeedError(self.problems)

    def where(self, number: int) -> str:
        return f"{self.name} line {number}"

    # The blocks in worker processes
    def run_workers(self, offset: int, number: int, workers: int) -> None:
        """The blocks from `offset` (line `number`, the first dialogue line) on, in `workers`
        forked processes, a chunk of whole blocks each (`work`); their results are taken in
        file order (`merge`), so the rows, documents and digest are the one-process load's.

        A worker checks its chunk as the one-process load would, but cannot see the records
        of the other chunks: ids seen before and the dialogues a `previous` names are checked
        here. Any problem raises Fallback: the one-process load reports them in file order."""
        global _WORKER
        clock, writer = self.clock, self.writer
        assert writer is not None
        self.shared_first_line = self.first_line
        self.first_line = {name: dict(keys) for name, keys in self.first_line.items()}
        self.dialogue_ids: set[int] = set()
        _WORKER = self
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=os.nice,
            initargs=(WORKER_NICENESS,),
        )
        try:
            with self.path.open("rb") as file:
                file.seek(offset)
                chunks = self.chunks(offset, number)
                # a few chunks ahead per worker: busy workers, bounded memory
                running = deque(pool.submit(_work, c) for c in islice(chunks, 3 * workers))
                while running:
                    with clock("wait for the workers"):
                        result = running.popleft().result()
                    running.extend(pool.submit(_work, c) for c in islice(chunks, 1))
                    with clock("take the workers' results"):
                        self.merge(result, file)
                    writer.maybe_flush()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _WORKER = None

    def chunks(self, offset: int, number: int) -> Iterator[Chunk]:
        """The rest of the file from `offset` in chunks of whole blocks, ~CHUNK_BYTES each:
        each ends before a line starting as a dialogue line does (or at the end of the file)."""
        with (
            self.path.open("rb") as file,
            mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mm,
        ):
            size = len(mm)
            while offset < size:
                found = NEXT_BLOCK.search(mm, offset + CHUNK_BYTES - 1)
                end = size if found is None else found.start() + 1
                yield Chunk(offset, end - offset, number)
                number += mm[offset:end].count(b"\n")
                offset = end

    def work(self, chunk: Chunk) -> ChunkResult:
        """In a worker: check, build and serialise the blocks of one chunk."""
        clock = self.clock = Clock()
        perf_counter = time.perf_counter
        self.problems = []
        self.first_line = {name: Layer(self.shared_first_line[name]) for name in SECTIONS}
        self.dialogues = AnyDialogue()
        self.gathered = Gathered()
        buffers = self.writer = Buffers()
        shared_builder = self.shared_builder
        assert shared_builder is not None and self.block is None
        shared_builder.rows = []
        extras: list[tuple[int, bytes]] = []
        self.digest = Extras(self, extras)  # type: ignore[assignment]
        version_keys = self.versions.taken = []
        with self.path.open("rb") as file:
            file.seek(chunk.offset)
            data = file.read(chunk.length)
        end = lines = 0
        for n, raw in enumerate(data.split(b"\n")):
            end += len(raw) + 1
            if not raw.strip():
                continue
            lines += 1
            self.line_end = min(end, len(data))
            started = perf_counter()
            line = self.parse(chunk.first_number + n, raw)
            clock.spent["read and validate"] += perf_counter() - started
            if line is not None:
                if lines == 1 and line.section != "dialogues":
                    raise Fallback(f"line {line.number} does not open a block")
                self.take(line)
            if self.problems:
                break
        if not self.problems:
            self.close_block()
        getter = buffers.getters["evidence"]
        rows, documents = buffers.packed()
        g = self.gathered
        spans: list[Any] = shared_builder.rows
        return ChunkResult(
            problems=self.problems,
            rows=rows,
            documents=documents,
            pending=buffers.pending,
            keys={
                name: compact(list(dict.items(keys)))
                for name, keys in self.first_line.items()
                if keys
            },
            dialogues=[(d.id, d.previous) for d in self.dialogues.values()],
            counts=(g.area_commitments, g.country_commitments, g.country_dialogues),
            person={key: dict(parts) for key, parts in g.person.items()},
            entity={key: dict(parts) for key, parts in g.entity.items()},
            summaries={key: doc.model_dump() for key, doc in g.summaries.items()},
            shared_spans=[
                (getter(row), shared_builder.fact_links[(row.fact_type, row.fact_id)])
                for row in spans
            ],
            version_keys=compact(version_keys),
            extras=extras,
            length=chunk.length,
            lines=lines,
            spent=dict(clock.spent),
        )

    def merge(self, result: ChunkResult, file: Any) -> None:
        """In the main process: a chunk's checks across chunks, then its rows and documents."""
        if result.problems:
            raise Fallback(f"{len(result.problems)} problem(s)")
        for section, keys in result.keys.items():
            first_line = self.first_line[section]
            for key, number in uncompact(keys):
                if key in first_line:
                    raise Fallback(f"line {number}: a duplicate id")
                first_line[key] = number
        for dialogue_id, previous in result.dialogues:
            known = previous is None or previous == dialogue_id or previous in self.dialogue_ids
            if not known:
                raise Fallback(f"dialogue {dialogue_id}: unknown previous {previous}")
            self.dialogue_ids.add(dialogue_id)
        g = self.gathered
        areas, countries, dialogues = result.counts
        g.area_commitments.update(areas)
        g.country_commitments.update(countries)
        g.country_dialogues.update(dialogues)
        for key, parts in result.person.items():
            for section, items in parts.items():
                g.person[key][section] += items
        for key, firsts in result.entity.items():
            for section, theirs in firsts.items():
                g.entity[key][section].add(theirs.items, theirs.taken)
        summary = self.schemas.DialogueSummary
        g.summaries.update({key: summary(**doc) for key, doc in result.summaries.items()})
        shared_builder, evidence = self.shared_builder, self.models.Evidence
        assert shared_builder is not None
        columns = evidence.columns
        for values, link in result.shared_spans:
            row = evidence(**dict(zip(columns, values, strict=True)))
            shared_builder.rows.append(row)
            shared_builder.fact_links[(row.fact_type, row.fact_id)] = link
        existing = self.versions.existing
        if existing:  # (a first load has none)
            for kind, key in uncompact(result.version_keys):
                existing.pop((kind, key), None)
        # the file's digest: its bytes in order (the chunks follow each other), each stored
        # text after its source's line
        position = 0
        for end, extra in result.extras:
            self.digest.update(file.read(end - position))
            self.digest.update(extra)
            position = end
        self.digest.update(file.read(result.length - position))
        self.lines += result.lines
        assert self.writer is not None
        self.writer.unpack(result.rows, result.documents, result.pending)
        for phase, secs in result.spent.items():
            self.clock.elsewhere[phase] += secs

    def parse(self, number: int, raw: bytes) -> Line | None:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.problems.append(Problem(self.where(number), "-", f"not valid JSON: {exc}"))
            return None
        if (
            not isinstance(data, dict)
            or not LINE_KEYS <= data.keys() <= LINE_KEYS_TEXT
            or not isinstance(data["record"], dict)
        ):
            reason = 'a line must be {"section": ..., "record": {...}} (and "text" for a source)'
            self.problems.append(Problem(self.where(number), "-", reason))
            return None
        section, record = data["section"], data["record"]
        model = MODELS.get(section) if isinstance(section, str) else None
        if model is None:
            reason = f"unknown section {section!r}: one of {', '.join(SECTIONS)}"
            self.problems.append(Problem(self.where(number), "-", reason))
            return None
        text_value = data.get("text")
        if text_value is not None and (section != "sources" or not isinstance(text_value, str)):
            label = record_label(section, record)
            self.problems.append(Problem(self.where(number), label, "only a source carries a text"))
            return None
        try:
            fact = model.model_validate(record)
        except ValidationError as exc:
            where, label = self.where(number), record_label(section, record)
            for err in exc.errors():
                loc = ".".join(str(part) for part in err["loc"])
                self.problems.append(Problem(where, label, f"{loc}: {err['msg']}"))
            return None
        return Line(number, section, fact, text_value)

    def take(self, line: Line) -> None:
        section, fact = line.section, line.record
        key = fact_key(section, fact)
        where = self.where(line.number)
        first = self.first_line[section].get(key)
        if first is not None:
            label = _label(section, key)
            self.problems.append(Problem(where, label, f"duplicate id (first on line {first})"))
            return
        self.first_line[section][key] = line.number
        block = self.block
        if section == "dialogues":
            self.close_block()
            if self.shared_builder is None:
                self.close_shared()
            self.open_block(line)
            return
        if section in VOCABULARY and block is not None:
            reason = f"{section} belong to the shared part, before the first dialogue line"
            self.problems.append(Problem(where, _label(section, key), reason))
            return
        if section in FACTS and (block is None or fact.dialogue != block.dialogue.id):
            here = f"the block of dialogue {block.dialogue.id}" if block else "the shared part"
            reason = (
                f"dialogue {fact.dialogue}: a fact must follow its dialogue's line "
                f"(this line is in {here})"
            )
            self.problems.append(Problem(where, _label(section, key), reason))
            return
        seed = block.seed if block else self.shared
        seed.sections[section][key] = fact
        seed.origin[(section, key)] = where
        if section == "sources":
            if block is not None:
                block.own_sources[key] = fact
            self.source_text(line, seed)

    def source_text(self, line: Line, seed: Seed) -> None:
        source: SourceIn = line.record
        where = (self.where(line.number), _label("sources", source.id))
        if source.file is None:
            if source.sha256 or source.excluded or line.text is not None:
                self.problems.append(Problem(*where, "a cited source has no text to store"))
            return
        if line.text is not None:
            raw = line.text.encode("utf-8")
        else:
            try:
                raw = (self.path.parent / source.file).read_bytes()
            except OSError as exc:
                reason = f"cannot read {source.file}: {exc.strerror}"
                self.problems.append(Problem(*where, reason))
                return
            self.digest.update(source.file.encode() + b"\0" + raw + b"\0")
        decoded, reasons = text_problems(source, raw)
        self.problems += [Problem(*where, reason) for reason in reasons]
        if decoded is not None:
            seed.texts[source.id] = decoded

    # The shared part
    def close_shared(self) -> None:
        seed = self.shared
        with self.clock("check"):
            _check_references(seed)
            check_evidence(seed)
        self.problems += seed.problems
        seed.problems = []
        if self.writer is None or self.problems:
            self.shared_builder = self.builder_class(seed)
            return
        versions, states = self.versions.of(seed)
        self.shared_builder = self.builder_class(seed, versions)
        with self.clock("build"):
            self.shared_builder.vocabulary()
        self.writer.rows(self.shared_builder.rows)
        self.writer.tuples("fact_version", states)
        self.shared_builder.rows = []
        self.writer.flush()

    # Blocks
    def open_block(self, line: Line) -> None:
        dialogue: DialogueIn = line.record
        shared = self.shared.sections
        sections: dict[str, dict[Any, Any]] = {name: {} for name in SECTIONS}
        for name in (*VOCABULARY, "sources"):
            sections[name] = Layer(shared[name])
        sections["dialogues"] = Layer(self.dialogues)
        sections["dialogues"][dialogue.id] = dialogue
        where = self.where(line.number)
        origin = {("dialogues", dialogue.id): where}
        seed = BulkSeed(self.path.parent, sections, origin, Layer(self.shared.texts), "", [])
        self.block = Block(dialogue, seed)

    def close_block(self) -> None:
        block, self.block = self.block, None
        if block is None:
            return
        seed = block.seed
        with self.clock("check"):
            _check_references(seed)
            check_evidence(seed)
        self.problems += seed.problems
        self.dialogues[block.dialogue.id] = block.dialogue
        for country in set(block.dialogue.countries):
            self.gathered.country_dialogues[country] += 1
        if self.writer is None or self.problems:
            return
        with self.clock("fact versions"):
            versions, states = self.versions.of(block.seed)
        builder = self.build_block(block, versions)
        self.writer.tuples("fact_version", states)
        self.write(builder, shared_sources=self.shared.sources)

    def build_block(self, block: Block, versions: dict[Key, tuple[int, int]]) -> Builder:
        """What `Builder.build()` does for one dialogue; what spans dialogues comes at the end."""
        seed, clock = block.seed, self.clock
        b = self.builder_class(seed, versions)
        with clock("build: sources"):
            b.vocabulary()  # the block's own sources: the shared ones are behind its Layers
        with clock("build: facts"):
            facts = b.facts(BUILD_ORDER)
        grouped = {section: [docs[key] for key in sorted(docs)] for section, docs in facts.items()}
        with clock("build: dialogue documents"):
            summary = b.dialogue(block.dialogue, grouped)
        with clock("build: source documents"):
            b.source_docs()
        with clock("build: search entries"):
            b.search_entries(facts, {block.dialogue.id: summary})
        return b

    def write(self, b: Builder, shared_sources: Mapping[str, Any]) -> None:
        assert self.writer is not None and self.shared_builder is not None
        shared_builder = self.shared_builder
        with self.clock("serialise documents"):
            bodies = {key: dumps(doc) for key, doc in b.docs.items() if key[0] != "dialogue"}
            for (kind, key), doc in b.docs.items():
                body = bodies.get((kind, key)) or dialogue_json(doc, bodies)
                self.writer.document(kind, key, body)
                self.gathered.take(kind, doc, body)
        row: Any
        for row in b.rows:  # spans of shared sources: their documents are made at the end
            if row.__tablename__ == "evidence" and row.source_id in shared_sources:
                shared_builder.rows.append(row)
                link = (row.fact_type, row.fact_id)
                shared_builder.fact_links[link] = b.fact_links[link]
        with self.clock("rows to tuples"):
            self.writer.rows(b.rows)
        self.writer.maybe_flush()

    # The end: what spans blocks
    def finish(self) -> None:
        if self.writer is None or self.problems or self.shared_builder is None:
            return
        sb, shared = self.shared_builder, self.shared
        by_series: defaultdict[str, dict[int, s.DialogueSummary]] = defaultdict(dict)
        for dialogue_id, summary in self.gathered.summaries.items():
            by_series[summary.series][dialogue_id] = summary
        series_rows: list[Any] = []
        with self.clock("build: series documents"):
            # One series at a time: Builder.series_docs looks through every summary per series.
            for sr in shared.series.values():
                sections = {**shared.sections, "series": {sr.slug: sr}}
                seed = BulkSeed(shared.folder, sections, shared.origin, shared.texts, "", [])
                one = self.builder_class(seed, sb.versions)
                one.series_docs(by_series[sr.slug])
                series_rows += one.rows
                sb.fact_links.update(one.fact_links)
                sb.docs.update(one.docs)
        sb.rows += series_rows
        with self.clock("build: shared source documents"):
            sb.source_docs()
        spans = len(sb.rows)
        no_facts: dict[str, dict[Any, Any]] = {
            "commitments": {},
            "statements": {},
            "indicators": {},
        }
        with self.clock("build: search entries"):
            sb.search_entries(no_facts, {})
        self.writer.rows(series_rows)
        self.writer.rows(sb.rows[spans:])
        with self.clock("serialise documents"):
            for (kind, key), doc in sb.docs.items():
                self.writer.document(kind, key, dumps(doc))
        with self.clock("documents across blocks"):
            self.documents_across_blocks()
        self.writer.tuples("fact_version", self.versions.removed())
        self.writer.flush()

    def documents_across_blocks(self) -> None:
        """The documents `Builder.build()` makes from every fact: areas, countries, people and
        entities, in linear time (Builder's own loops are O(vocabulary x facts))."""
        assert self.writer is not None
        seed, g, write, s = self.shared, self.gathered, self.writer.document, self.schemas
        stamp = self.shared_builder.stamp if self.shared_builder else None
        assert stamp is not None
        for a in seed.areas.values():
            doc = s.AreaPublic(
                **stamp("area", a.slug),
                slug=a.slug,
                label=a.label,
                description=a.description,
                commitments=g.area_commitments[a.slug],
            )
            write("area", a.slug, dumps(doc))
        people_of = Counter(p.country for p in seed.people.values())
        for c in seed.countries.values():
            country = s.CountryPublic(
                **stamp("country", c.code),
                code=c.code,
                name=c.name,
                dialogues=g.country_dialogues[c.code],
                commitments=g.country_commitments[c.code],
                people=people_of[c.code],
            )
            write("country", c.code, dumps(country))
        lists: dict[str, list[Any]] = {
            "participations": [],
            "commitments": [],
            "statements": [],
            "indicators": [],
        }
        for p in seed.people.values():
            person = s.PersonPublic(
                **stamp("person", p.id),
                id=p.id,
                name=p.name,
                aliases=list(p.aliases),
                country=p.country,
                **lists,
            )
            parts = g.person.pop(p.id, {})
            write("person", p.id, spliced(person, {k: parts.get(k, []) for k in lists}))
            self.writer.maybe_flush()
        for e in seed.entities.values():
            naming: dict[str, FirstFacts] = g.entity.pop(e.slug, {})
            firsts = {section: naming.get(section) or FirstFacts() for section in ENTITY_LISTS}
            entity = s.EntityPublic(
                **stamp("entity", e.slug),
                slug=e.slug,
                name=e.name,
                kind=e.kind,
                aliases=list(e.aliases),
                description=e.description,
                **{section: [] for section in ENTITY_LISTS},
                totals=s.EntityTotals(**{k: f.taken for k, f in firsts.items()}),
            )
            parts = {section: f.first() for section, f in firsts.items()}
            write("entity", e.slug, spliced(entity, parts))
            self.writer.maybe_flush()


# The search index, made beside the load
SEARCH_ENTRY = metadata.tables["search_entry"]


class SearchIndex:
    """SQLite's full-text index of the search entries (FTS5, see migration 0002), made beside
    the load rather than after it. A thread keeps a copy of search_entry in a scratch database
    (next to the loaded one, removed afterwards), fed as the Writer writes the table; after the
    last entry it runs FTS5's own 'rebuild' there (in SQLite's code, which does not hold the
    GIL) while the load makes its other indexes. The index's own tables are then copied in:
    the very rows a 'rebuild' in the loaded database makes, as FTS5 makes the same rows of the
    same entries with the same configuration (an index configured otherwise than a fresh one,
    say with 'automerge', is rebuilt in place as before)."""

    TABLES = ("search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config")

    def __init__(self, conn: Connection):
        self.main = driver(conn)
        loaded = conn.engine.url.database
        beside = Path(loaded).parent if loaded and loaded != ":memory:" else None
        self.folder = tempfile.TemporaryDirectory(prefix=".bulk-search-", dir=beside)
        path = Path(self.folder.name) / "search.sqlite3"
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size={CACHE_KIB}"):
            self.db.execute(f"PRAGMA {pragma}")
        definitions = "SELECT sql FROM sqlite_master WHERE name IN ('search_entry', 'search_fts')"
        for (definition,) in self.main.execute(f"{definitions} ORDER BY name"):
            self.db.execute(definition)
        configuration = "SELECT * FROM search_fts_config ORDER BY k"
        mine, theirs = (db.execute(configuration).fetchall() for db in (self.db, self.main))
        self.usable = mine == theirs
        self.entries: queue.SimpleQueue[list[Any] | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._fill_and_rebuild, name="search index")

    def add(self, values: list[Any]) -> None:
        """Search entries as written (search_entry's values, row after row)."""
        self._put(values)

    def rebuild(self) -> None:
        """The last entry is in: rebuild the index (in the thread)."""
        self._put(None)

    def _put(self, item: list[Any] | None) -> None:
        if self.thread.ident is None:  # started with the first entries: after the workers fork
            self.thread.start()
        self.entries.put(item)

    def _fill_and_rebuild(self) -> None:
        try:
            self.db.execute("BEGIN")
            width = len(SEARCH_ENTRY.columns)
            columns = ", ".join(f'"{c.name}"' for c in SEARCH_ENTRY.columns)
            into = f"INSERT INTO search_entry ({columns})"
            while (values := self.entries.get()) is not None:
                insert_rows(self.db, into, width, values)
            if self.usable:
                self.db.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
            self.db.execute("COMMIT")
        except BaseException as exc:  # raised again by copy_into, in the load's thread
            self.error = exc
            while self.entries.get() is not None:
                pass

    def copy_into(self) -> None:
        """Wait for the rebuild, then replace the loaded database's index with its rows."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        for table in self.TABLES:
            self.main.execute(f"DELETE FROM {table}")
            rows = self.db.execute(f"SELECT * FROM {table}")
            width = len(rows.description)
            values = list(chain.from_iterable(rows))
            insert_rows(self.main, f"INSERT INTO {table}", width, values)

    def close(self) -> None:
        if self.thread.is_alive():  # (the load was refused)
            self.usable = False
            self.entries.put(None)
            self.thread.join()
        self.db.close()
        self.folder.cleanup()


@contextmanager
def search_index_beside(conn: Connection) -> Iterator[SearchIndex | None]:
    """A SearchIndex for a load into SQLite, if the loaded database's index can take its rows."""
    if conn.dialect.name != "sqlite":
        yield None
        return
    index = SearchIndex(conn)
    try:
        yield index if index.usable else None
    finally:
        index.close()


# Loading
def driver(conn: Connection) -> Any:
    """The DB-API connection under `conn` (sqlite3 or psycopg), inside its transaction."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while loading: the load makes millions of long-lived
    objects (and next to no cycles), which the collector would walk again and again
    (~12% of a 100k load)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def sqlite_bulk_pragmas(conn: Connection) -> Iterator[None]:
    """Fast, still transactional writes for the load only; the usual settings afterwards."""
    sqlite = driver(conn)
    before = {
        name: sqlite.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "cache_size", "threads")
    }
    sqlite.execute("PRAGMA journal_mode=MEMORY")
    sqlite.execute("PRAGMA synchronous=OFF")
    sqlite.execute(f"PRAGMA cache_size={CACHE_KIB}")
    sqlite.execute("PRAGMA threads=2")  # helper threads for the sorts of CREATE INDEX
    try:
        yield
    finally:
        for name, value in before.items():
            sqlite.execute(f"PRAGMA {name}={value}")


versions_table = m.DatasetVersion.__table__  # type: ignore[attr-defined]
facts_table = m.FactVersion.__table__  # type: ignore[attr-defined]
SECONDARY_INDEXES = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
    "AND tbl_name IN :tables",
    "postgresql": "SELECT indexname, indexdef FROM pg_indexes "
    "WHERE schemaname = current_schema() AND tablename IN :tables "
    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
}


@contextmanager
def deferred_indexes(conn: Connection, tables: list[str], clock: Clock) -> Iterator[None]:
    """Drop the secondary indexes (not keys or constraints) of `tables` for the load, and
    make them again from their own definitions after it: one sort instead of a million
    inserts into each. Inside the load's transaction, so a refused load gets them back."""
    query = text(SECONDARY_INDEXES[conn.dialect.name]).bindparams(
        bindparam("tables", expanding=True)
    )
    indexes = conn.execute(query, {"tables": tables}).all()
    quote = conn.dialect.identifier_preparer.quote
    with clock("indexes: drop"):
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {quote(name)}"))
    yield
    with clock("indexes: create"):
        for _, definition in indexes:
            conn.execute(text(definition))


def load_bulk(
    engine: Engine,
    path: Path,
    clock: Clock | None = None,
    sqlmodel_rows: bool = False,
    analyze: bool = False,
    workers: int | None = None,
) -> LoadResult:
    """Migrate, then replace the dataset with the bulk file's, in one transaction; on any
    problem raise SeedError and leave the database as it was. With `analyze`, gather the
    planner's statistics afterwards (ANALYZE; VACUUM ANALYZE on PostgreSQL).

    The blocks are checked and built in `workers` processes (by default one per core, from
    two cores; 0: all in this one). Should they meet a problem, or a file they cannot split,
    the load is rolled back and done again in this process, which reports problems in file
    order exactly as it always has."""
    clock = clock or Clock()
    if workers is None:
        workers = default_workers()
    if sqlmodel_rows:
        workers = 0
    with clock("migrate"):
        migrate(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        pragmas: AbstractContextManager[Any] = (
            sqlite_bulk_pragmas(conn) if sqlite else nullcontext()
        )
        with pragmas:
            try:
                with conn.begin():
                    result = _load(conn, path, clock, sqlmodel_rows, workers)
                    committing = time.perf_counter()
            except Fallback as exc:
                print(f"bulk load: in one process after all ({exc})", file=sys.stderr)
                with clock("load again in one process"), conn.begin():
                    result = _load(conn, path, clock, sqlmodel_rows, 0)
                    committing = time.perf_counter()
            clock.spent["commit"] += time.perf_counter() - committing
    if analyze:
        with clock("analyze"):
            gather_statistics(engine)
    return result


def gather_statistics(engine: Engine) -> None:
    """The planner's statistics (and on PostgreSQL the visibility map, for index-only scans),
    which autovacuum would gather on PostgreSQL and nothing gathers on SQLite."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            return
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("SET statement_timeout = 0")
        conn.exec_driver_sql("VACUUM ANALYZE")


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0


def _load(
    conn: Connection, path: Path, clock: Clock, sqlmodel_rows: bool, workers: int
) -> LoadResult:
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    latest = conn.execute(select(func.max(versions_table.c.version))).scalar()
    version = (latest or 0) + 1
    existing = {
        (r.kind, r.key): FactState(r.first_seen, r.last_changed, r.removed_in, r.content_sha256)
        for r in conn.execute(select(facts_table))
    }
    replaced = [t for t in metadata.sorted_tables if t.name not in KEPT_ACROSS_LOADS]
    with clock("delete the old dataset"):
        for table in reversed([*replaced, facts_table]):
            conn.execute(delete(table))
    with search_index_beside(conn) as search_index:
        writer = Writer(conn, clock, search_index)
        bulk = Bulk(path, writer, Versions(existing, version), sqlmodel_rows=sqlmodel_rows)
        with deferred_indexes(conn, [t.name for t in writer.tables], clock), collector_paused():
            bulk.run(workers)
            if search_index is not None:
                search_index.rebuild()  # in its thread, while the other indexes are made
            if sqlite:  # the sorts of the indexes and of the search index: in memory if they can
                driver(conn).execute(f"PRAGMA cache_size={SORT_CACHE_KIB}")
        with clock("list totals"):
            refresh_totals(conn)
        if search_index is not None:
            with clock("search index (FTS5 rebuilt beside)"):
                search_index.copy_into()
        elif sqlite:  # FTS5 index of search_entry (see migration 0002)
            with clock("search index (FTS5 rebuild)"):
                conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    counts = {t.name: writer.counts[t.name] for t in replaced if t.name != TOTALS_TABLE}
    conn.execute(
        insert(versions_table),
        {
            "version": version,
            "loaded_at": dt.datetime.now(dt.UTC).replace(microsecond=0),
            "seed_sha256": bulk.digest.hexdigest(),
            "counts": counts,
        },
    )
    return LoadResult(version, True, counts)


def check_bulk(path: Path) -> Bulk:
    """Check a bulk file without touching any database; raise SeedError on any problem."""
    bulk = Bulk(path)
    bulk.run()
    return bulk


def whole_seed(path: Path) -> Seed:
    """A (small) bulk file as one Seed, checked as the curated loader checks a seed folder:
    to compare what the bulk loader writes with what `Builder.build()` makes of the same facts."""
    bulk = Bulk(path)
    seed = bulk.shared
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            line = bulk.parse(number, raw) if raw.strip() else None
            if line is None:
                continue
            key = fact_key(line.section, line.record)
            seed.sections[line.section][key] = line.record
            seed.origin[(line.section, key)] = bulk.where(number)
            if line.section == "sources":
                bulk.source_text(line, seed)
    _check_references(seed)
    _check_evidence(seed)
    problems = bulk.problems + seed.problems
    if problems:
        raise SeedError(problems)
    return seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.seed.bulk", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    load_cmd = commands.add_parser("load", help="migrate and load a bulk file")
    load_cmd.add_argument("file", type=Path)
    load_cmd.add_argument("--database-url", required=True, help="the database to load into")
    load_cmd.add_argument("--timings", action="store_true", help="print where the time went")
    load_cmd.add_argument(
        "--sqlmodel-rows",
        action="store_true",
        help="build rows as SQLModel table instances (the curated loader's way; slow)",
    )
    load_cmd.add_argument(
        "--analyze",
        action="store_true",
        help="then gather the planner's statistics (ANALYZE; VACUUM ANALYZE on PostgreSQL)",
    )
    load_cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes that check and build the blocks (default: one per core; 0: none)",
    )
    check_cmd = commands.add_parser("check", help="check a bulk file only")
    check_cmd.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    clock = Clock()
    try:
        if args.command == "check":
            bulk = check_bulk(args.file)
            print(f"bulk file ok: {args.file} ({bulk.lines} records)")
            return 0
        url = args.database_url
        ensure_sqlite_folder(url)
        engine = make_engine(url)
        try:
            result = load_bulk(
                engine,
                args.file,
                clock,
                sqlmodel_rows=args.sqlmodel_rows,
                analyze=args.analyze,
                workers=args.workers,
            )
        finally:
            engine.dispose()
    except SeedError as exc:
        print(exc.report("bulk file"), file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(
        f"dataset version {result.version}: loaded {args.file.name} "
        f"({result.counts['commitment']} commitments, {result.counts['document']} documents) "
        f"in {elapsed:.1f} s"
    )
    if args.timings:
        print(clock.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
