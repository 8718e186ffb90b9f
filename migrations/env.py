"""Alembic environment: the app's tables and settings; SQLite needs batch mode."""

from alembic import context
from sqlalchemy import Connection

from app import models
from app.db import make_engine
from app.settings import get_settings

target_metadata = models.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
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
