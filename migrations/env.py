"""Alembic environment: the app's tables and settings; SQLite needs batch mode."""

from alembic import context
from sqlalchemy import Connection

from app import models
from app.db import make_engine
from app.settings import get_settings

target_metadata = models.metadata


# Full-text search structures that only one database has, made by hand in migrations 0002 and
# 0005: SQLite's FTS5 table, PostgreSQL's stored tsvector column and its GIN index.
NOT_IN_MODELS = ("search_fts", "ix_search_entry_fulltext", "fulltext")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(NOT_IN_MODELS)


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    with make_engine(url).connect() as conn:
        run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_online()
