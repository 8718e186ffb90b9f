"""Engines and the naming convention; nothing here knows the tables."""

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event, make_url
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

# Stable constraint names, so migrations name things the same on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def ensure_sqlite_folder(url: str) -> None:
    """Make the folder an SQLite file URL points into, so a loader can create the file."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def make_engine(
    url: str,
    timeout: float = 5.0,
    pool_size: int = 5,
    max_overflow: int = 5,
    read_only: bool = False,
) -> Engine:
    """An engine whose every wait is bounded by `timeout` seconds.

    `read_only` is for the API: on SQLite it opens the file read-only, so a server never
    creates an empty database where it expected data (a missing file answers 503)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, timeout, read_only)
    millis = int(timeout * 1000)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # The API's reads check nothing ahead (a round trip each): a read that finds its
        # connection lost runs once more on a new one (app.read.Reader.run).
        pool_pre_ping=not read_only,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(1, round(timeout)),
            "options": f"-c statement_timeout={millis} -c lock_timeout={millis}",
            # A server that stops answering (a partition, a dead host) is noticed too:
            # unacknowledged data fails the connection after `timeout`.
            "keepalives": 1,
            "keepalives_idle": max(1, round(timeout)),
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": millis,
        },
    )


def _sqlite_engine(url: str, timeout: float, read_only: bool) -> Engine:
    path = make_url(url).database
    if read_only and path and path != ":memory:":
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas if not read_only else _sqlite_reader)
    # pysqlite leaves reads outside any transaction; emit BEGIN ourselves so that every
    # connection's statements share one snapshot (and DDL is transactional too).
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def _sqlite_reader(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event emits BEGIN


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers keep their snapshot while a load writes
    cursor.close()
