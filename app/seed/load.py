"""Write a verified seed to the database in one transaction, or leave it exactly as it was."""

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import BaseModel
from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app import models as m
from app.db import metadata
from app.seed.build import Builder
from app.seed.totals import TABLE as TOTALS_TABLE
from app.seed.totals import refresh_totals
from app.seed.verify import read_seed
from app.seed.versions import FactState, as_rows, fact_hashes, plan
from app.settings import ROOT

versions_table = m.DatasetVersion.__table__  # type: ignore[attr-defined]
facts_table = m.FactVersion.__table__  # type: ignore[attr-defined]
# One loader at a time per PostgreSQL database: replicas starting together queue here.
LOAD_LOCK_KEY = 0x6661637473  # "facts"


@dataclass(frozen=True)
class LoadResult:
    version: int
    changed: bool
    counts: dict[str, int]


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    with engine.begin() as conn:
        _lock(conn)
        command.upgrade(alembic_config(conn), "head")


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})


def load(engine: Engine, seed_dir: Path) -> LoadResult:
    """Migrate, verify the seed, and replace the dataset with it (unless it is already loaded)."""
    seed = read_seed(seed_dir)  # raises SeedError before the database is touched
    hashes = fact_hashes(seed)
    migrate(engine)
    with engine.begin() as conn:
        _lock(conn)
        latest = conn.execute(
            select(versions_table).order_by(versions_table.c.version.desc()).limit(1)
        ).first()
        if latest is not None and latest.seed_sha256 == seed.checksum:
            return LoadResult(latest.version, False, dict(latest.counts))
        version = (latest.version if latest else 0) + 1
        existing = {
            (r.kind, r.key): FactState(r.first_seen, r.last_changed, r.removed_in, r.content_sha256)
            for r in conn.execute(select(facts_table))
        }
        states = plan(existing, hashes, version)
        builder = Builder(seed, {k: (v.first_seen, v.last_changed) for k, v in states.items()})
        builder.build()
        counts = _replace_dataset(conn, builder)
        conn.execute(delete(facts_table))
        conn.execute(insert(facts_table), as_rows(states))
        conn.execute(
            insert(versions_table),
            {
                "version": version,
                "loaded_at": dt.datetime.now(dt.UTC).replace(microsecond=0),
                "seed_sha256": seed.checksum,
                "counts": counts,
            },
        )
    return LoadResult(version, True, counts)


KEPT_ACROSS_LOADS = {"dataset_version", "fact_version"}


def ascii_json(doc: BaseModel) -> str:
    """The document's JSON with non-ASCII characters escaped (the en spaces of a quote become
    \\u2002): the same JSON to any parser, and bytes the server sends without re-encoding."""
    text = doc.model_dump_json()
    return text if text.isascii() else json.dumps(json.loads(text), separators=(",", ":"))


def _replace_dataset(conn: Connection, builder: Builder) -> dict[str, int]:
    """Delete the old dataset's rows and write the new one's; the counts of each table."""
    tables = [t for t in metadata.sorted_tables if t.name not in KEPT_ACROSS_LOADS]
    for table in reversed(tables):
        conn.execute(delete(table))
    rows: dict[str, list[SQLModel]] = defaultdict(list)
    for row in builder.rows:
        rows[str(type(row).__tablename__)].append(row)
    rows["document"] = [
        m.Document(kind=kind, key=key, body=ascii_json(doc))
        for (kind, key), doc in sorted(builder.docs.items())
    ]
    rows["dialogue"].sort(key=lambda d: d.id)  # type: ignore[attr-defined]
    for table in tables:
        if rows[table.name]:
            conn.execute(insert(table), [r.model_dump() for r in rows[table.name]])
    if conn.dialect.name == "sqlite":  # FTS5 index of search_entry (see migration 0002)
        conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    refresh_totals(conn)
    return {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in tables
        if t.name != TOTALS_TABLE
    }
