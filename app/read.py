"""Reads: one snapshot per request, plain SQL on the driver's own connection, and documents
built at load time.

Every request reads one snapshot: one transaction in which the dataset version, the keys
and the documents are read together, so a response is wholly from one loaded dataset. The
SQL is written out, with `?` placeholders on both databases: a read costs the database's
time plus microseconds, not an ORM's or a statement compiler's.
"""

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from psycopg import IsolationLevel
from sqlalchemy import exc
from sqlalchemy.engine import Engine

T = TypeVar("T")
REPEATABLE_READ = IsolationLevel.REPEATABLE_READ
TOTAL_CAP = 10_000


@dataclass(frozen=True)
class Column:
    """A column a list sorts or pages by: its SQL and the Python type of its values."""

    sql: str
    type: type


@dataclass(frozen=True)
class Order:
    """A list's order: one column (or none), then the key as the tiebreak; missing values last."""

    column: Column | None
    key: Column
    descending: bool = False

    def columns(self) -> list[Column]:
        return [self.key] if self.column is None else [self.column, self.key]

    def sql(self, key: str = "", column: str = "") -> str:
        """ORDER BY's terms, on the columns' own SQL or on the names `key` and `column`."""
        key = key or self.key.sql
        direction = " DESC NULLS LAST" if self.descending else " ASC NULLS LAST"
        if self.column is None:  # a key is never missing, and its index already orders it
            return key + (" DESC" if self.descending else "")
        return f"{column or self.column.sql}{direction}, {key}{direction}"

    def after(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """Rows strictly after the row whose (column, key) values are `values` (a keyset cursor)."""
        beyond = "<" if self.descending else ">"
        *column_value, key_value = values
        key_after = f"{self.key.sql} {beyond} ?"
        if self.column is None:
            return key_after, [key_value]
        (value,) = column_value
        column = self.column.sql
        if value is None:  # the cursor is among the missing values, which come last
            return f"({column} IS NULL AND {key_after})", [key_value]
        if isinstance(value, dt.date):
            value = value.isoformat()
        return (
            f"({column} {beyond} ? OR ({column} = ? AND {key_after}) OR {column} IS NULL)",
            [value, value, key_value],
        )


@dataclass(frozen=True)
class Keys:
    """Which rows of `table` (aliased `t`) a list holds: SQL conditions and their parameters.

    `facet` names the list's stored total (see `app.seed.totals`) while the list is whole or
    under one one-value filter; any other filter makes the total a (capped) count."""

    list: str
    table: str
    where: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()
    facet: tuple[str, str] | None = ("", "")

    def filter(self, sql: str, *params: Any, facet: tuple[str, str] | None = None) -> "Keys":
        whole = not self.where
        return Keys(
            self.list,
            self.table,
            (*self.where, sql),
            (*self.params, *params),
            facet if whole and facet is not None else None,
        )

    def sql(self, columns: str) -> str:
        where = " WHERE " + " AND ".join(self.where) if self.where else ""
        return f"SELECT {columns} FROM {self.table} t{where}"


def utf8(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


def placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


@dataclass(frozen=True)
class PageOfDocs:
    total: int
    limit: int
    offset: int  # the position of the first item in the whole list
    bodies: list[bytes]  # JSON, UTF-8
    last: tuple[Any, ...] | None  # the last row's (column, key) values, for the next cursor
    exact_total: bool = True  # False: more than TOTAL_CAP items, and `total` is a lower bound

    @property
    def has_next(self) -> bool:
        if not self.exact_total:
            return len(self.bodies) == self.limit
        return self.offset + len(self.bodies) < self.total


class DatabaseTimeout(Exception):
    def __init__(self, seconds: float):
        super().__init__(f"the database did not answer within {seconds:g} s")


class VersionClock:
    """The newest dataset version this process has seen; the edge stamps it on responses."""

    def __init__(self) -> None:
        self.value: int | None = None

    def get(self) -> int | None:
        return self.value

    def saw(self, version: int | None) -> None:
        if version is not None and (self.value is None or version > self.value):
            self.value = version


VERSION_SQL = "SELECT max(version) FROM dataset_version"


class Snapshot:
    """One read transaction on a DB-API cursor. Database errors come out as SQLAlchemy's
    (`DBAPIError` and its kinds), as if SQLAlchemy had run the statement."""

    def __init__(
        self,
        cursor: Any,
        engine: Engine,
        clock: VersionClock,
        trace: Callable[[str], None] | None = None,
    ):
        self.cursor = cursor
        self.trace = trace
        self.dialect = engine.dialect
        self.pyformat = engine.dialect.paramstyle != "qmark"
        # Documents come out as UTF-8 bytes, ready to send. SQLite hands over a blob as it is
        # stored (a text column would be decoded, and the response encode it again).
        self.body = "CAST({} AS BLOB)" if engine.dialect.name == "sqlite" else "{}"
        self.totals: dict[tuple[str, str, str], int | None] = {}
        if engine.dialect.name == "sqlite":  # the connection runs in autocommit mode otherwise
            self.rows("BEGIN")
        self.version: int | None = self.value(VERSION_SQL)
        clock.saw(self.version)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.pyformat:
            sql = sql.replace("?", "%s")
        if self.trace is not None:
            self.trace(sql)
        try:
            self.cursor.execute(sql, params)
            return self.cursor.fetchall() if self.cursor.description else []
        except self.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                sql, params, error, self.dialect.loaded_dbapi.Error
            ) from error

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        rows = self.rows(sql, params)
        names = [d[0] for d in self.cursor.description]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def document(self, kind: str, key: str) -> bytes | None:
        sql = f"SELECT {self.body.format('body')} FROM document WHERE kind = ? AND key = ?"
        body = self.value(sql, (kind, key))
        return body if body is None else utf8(body)

    def stored_total(self, name: str, filter_: str = "", value: str = "") -> int | None:
        """A list's total counted at load time, whole or under one filter's value (None: a
        value the vocabulary does not hold). Asked once per snapshot."""
        key = (name, filter_, value)
        if key not in self.totals:
            sql = "SELECT total FROM list_total WHERE list = ? AND filter = ? AND value = ?"
            self.totals[key] = self.value(sql, key)
        return self.totals[key]

    def total(self, keys: Keys) -> tuple[int, bool]:
        """The list's total, and whether it is exact: stored for a whole list or one filter,
        else counted up to TOTAL_CAP + 1 rows, so a total costs the same at any size."""
        if keys.facet is not None:
            return self.stored_total(keys.list, *keys.facet) or 0, True
        counted = self.value(
            f"SELECT count(*) FROM ({keys.sql('1')} LIMIT {TOTAL_CAP + 1}) AS capped", keys.params
        )
        return min(counted, TOTAL_CAP), counted <= TOTAL_CAP

    def page(
        self,
        kind: str,
        keys: Keys,
        order: Order,
        limit: int,
        offset: int = 0,
        after: Sequence[Any] | None = None,
    ) -> PageOfDocs:
        """A page of `kind` documents of the rows `keys` selects, in `order`.

        With `after` (a keyset cursor's values) the page starts after that row, and `offset`
        only says where that is in the whole list; otherwise `offset` rows are skipped."""
        total, exact = self.total(keys)
        params = list(keys.params)
        if after is not None:
            condition, values = order.after(after)
            keys = keys.filter(condition)
            params += values
        columns = order.key.sql + " AS k" + (f", {order.column.sql} AS c" if order.column else "")
        page = f"{keys.sql(columns)} ORDER BY {order.sql()} LIMIT ?"
        params.append(limit)
        if after is None:
            page += " OFFSET ?"
            params.append(offset)
        # The page's keys first (LIMIT keeps the plan to them), then their documents.
        sql = (
            f"SELECT {self.body.format('d.body')}, p.* FROM ({page}) p"
            " JOIN document d ON d.kind = ? AND d.key = CAST(p.k AS TEXT)"
            f" ORDER BY {order.sql('p.k', 'p.c')}"
        )
        rows = self.rows(sql, [*params, kind])
        last = None
        if rows:
            row = rows[-1]
            last = (row[1],) if order.column is None else (row[2], row[1])
        return PageOfDocs(total, limit, offset, [utf8(row[0]) for row in rows], last, exact)


class Reader:
    def __init__(self, engine: Engine, deadline: float = 10.0, threads: int = 10):
        self.engine = engine
        self.clock = VersionClock()
        self.inline = engine.dialect.name == "sqlite"
        self.deadline = deadline
        self.threads = threads  # for reads off the event loop: as many as the pool's connections
        self.executor: ThreadPoolExecutor | None = None  # made on first use, ended by close()
        self.trace: Callable[[str], None] | None = None  # sees each statement (for tests)
        self.kept: Any = None  # on SQLite, the event loop's own connection, kept between reads

    async def read(self, work: Callable[[Snapshot], T]) -> T:
        """`work(snapshot)`: inline on SQLite, in a worker thread on PostgreSQL."""
        if self.inline:
            return self.run(work)
        try:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="read")
            async with asyncio.timeout(self.deadline):
                return await asyncio.get_running_loop().run_in_executor(
                    self.executor, self.run, work
                )
        except TimeoutError:
            # A server that accepts but never answers: the request gets its 503 in time;
            # the stuck thread ends when the connection's own timeouts give up.
            raise DatabaseTimeout(self.deadline) from None

    def run(self, work: Callable[[Snapshot], T]) -> T:
        try:
            with self.snapshot(keep=self.inline) as snap:
                return work(snap)
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
        # The connection had been lost since its last use (the database restarted, say);
        # the pool is emptied of its like. Once more, on a new connection.
        with self.snapshot(keep=self.inline) as snap:
            return work(snap)

    def poll(self) -> int | None:
        """The newest dataset version, now (the clock keeps it for the edge)."""
        with self.snapshot(traced=False) as snap:
            return snap.version

    @contextmanager
    def snapshot(self, traced: bool = True, keep: bool = False) -> Iterator[Snapshot]:
        """A read-only transaction on a pooled connection (the pool's timeouts apply), rolled
        back at the end; a connection that failed leaves the pool, and a lost one empties it.

        With `keep` (inline reads on SQLite, all in the event loop's thread) the connection
        stays checked out for the next read: a checkout costs more than a small read."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        pooled = self.kept if keep else None
        if pooled is None:
            try:
                pooled = self.engine.raw_connection()
            except dbapi_error as error:  # as SQLAlchemy's, like any other database error
                raise exc.DBAPIError.instance(None, None, error, dbapi_error) from error
        connection: Any = pooled.driver_connection
        try:
            if not self.inline and connection.isolation_level != REPEATABLE_READ:
                # psycopg opens the transaction with the first statement, as set here
                connection.isolation_level = REPEATABLE_READ
                connection.read_only = True
            yield Snapshot(
                connection.cursor(), self.engine, self.clock, self.trace if traced else None
            )
        except exc.DBAPIError as error:
            if error.connection_invalidated or self.engine.dialect.is_disconnect(
                error.orig,  # type: ignore[arg-type]
                connection,
                None,
            ):
                error.connection_invalidated = True
                pooled.invalidate(error.orig)
                self.engine.dispose()  # the others in the pool are likely lost too
            raise
        finally:
            if pooled.is_valid:
                try:
                    connection.rollback()
                except dbapi_error as error:
                    pooled.invalidate(error)
            kept = keep and pooled.is_valid
            if keep:
                self.kept = pooled if kept else None
            if not kept:
                pooled.close()

    def close(self) -> None:
        """Give back the kept connection and end the threads (at shutdown, before the engine
        is disposed); a later read starts afresh."""
        if self.kept is not None:
            self.kept.close()
            self.kept = None
        if self.executor is not None:
            self.executor.shutdown(wait=False)
            self.executor = None
