"""Write a verified seed to the database in one transaction, or leave it exactly as it was."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app import models as m
from app.db import metadata
from app.seed.build import Builder
from app.seed.verify import read_seed
from app.settings import ROOT

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
    builder = Builder(seed)
    builder.build()
    migrate(engine)
    with engine.begin() as conn:
        _lock(conn)
        latest = conn.execute(
            select(m.DatasetVersion).order_by(m.DatasetVersion.version.desc()).limit(1)  # type: ignore[attr-defined]
        ).first()
        if latest is not None and latest.seed_sha256 == seed.checksum:
            return LoadResult(latest.version, False, dict(latest.counts))
        tables = [t for t in metadata.sorted_tables if t.name != "dataset_version"]
        for table in reversed(tables):
            conn.execute(delete(table))
        rows: dict[str, list[SQLModel]] = defaultdict(list)
        for row in builder.rows:
            rows[str(type(row).__tablename__)].append(row)
        rows["document"] = [
            m.Document(kind=kind, key=key, body=doc.model_dump_json())
            for (kind, key), doc in sorted(builder.docs.items())
        ]
        rows["dialogue"].sort(key=lambda d: d.id)  # type: ignore[attr-defined]
        for table in tables:
            if rows[table.name]:
                conn.execute(insert(table), [r.model_dump() for r in rows[table.name]])
        if conn.dialect.name == "sqlite":  # FTS5 index of search_entry (see migration 0002)
            conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
        }
        version = (latest.version if latest else 0) + 1
        conn.execute(
            insert(m.DatasetVersion.__table__),  # type: ignore[attr-defined]
            {
                "version": version,
                "loaded_at": dt.datetime.now(dt.UTC).replace(microsecond=0),
                "seed_sha256": seed.checksum,
                "counts": counts,
            },
        )
    return LoadResult(version, True, counts)
