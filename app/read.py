"""Read functions: lean Core queries over the tables, answering with prebuilt documents.

Every request reads one snapshot: one transaction in which the dataset version, the keys
and the documents are read together, so a response is wholly from one loaded dataset.
"""

import asyncio
import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool

from app import models as m

T = TypeVar("T")
TOTAL_CAP = 10_000
document = m.Document.__table__  # type: ignore[attr-defined]
dataset_version = m.DatasetVersion.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Order:
    """A list's order: one column (or none), then the key as the tiebreak; missing values last."""

    column: Any | None
    key: Any
    descending: bool = False

    def clauses(self) -> list[Any]:
        cols = [self.column, self.key] if self.column is not None else [self.key]
        if self.descending:
            return [c.desc().nulls_last() for c in cols]
        return [c.asc().nulls_last() for c in cols]

    def after(self, values: Sequence[Any]) -> Any:
        """Rows strictly after the row whose (column, key) values are `values` (a keyset cursor)."""
        beyond = operator.lt if self.descending else operator.gt
        *col_value, key_value = values
        key_after = beyond(self.key, bindparam(None, key_value, type_=self.key.type))
        if self.column is None:
            return key_after
        (value,) = col_value
        if value is None:  # the cursor is among the missing values, which come last
            return and_(self.column.is_(None), key_after)
        bound = bindparam(None, value, type_=self.column.type)
        return or_(
            beyond(self.column, bound),
            and_(self.column == bound, key_after),
            self.column.is_(None),
        )


@dataclass(frozen=True)
class PageOfDocs:
    total: int
    limit: int
    offset: int  # the position of the first item in the whole list
    bodies: list[str]
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

    def current(self, engine: Engine) -> int | None:
        """Ask the database for the newest version (the poller calls this)."""
        with engine.connect().execution_options(version_poller=True) as conn:
            version = conn.execute(select(func.max(dataset_version.c.version))).scalar()
        self.saw(version)
        return version


# The two statements every request runs, as plain SQL: they skip SQLAlchemy's compiler.
VERSION_SQL = "SELECT max(version) FROM dataset_version"
DOCUMENT_SQL = {
    "qmark": "SELECT body FROM document WHERE kind = ? AND key = ?",
    "pyformat": "SELECT body FROM document WHERE kind = %s AND key = %s",
}


class Snapshot:
    def __init__(self, conn: Connection, clock: VersionClock):
        self.conn = conn
        self.version: int | None = conn.exec_driver_sql(VERSION_SQL).scalar()
        self.document_sql = DOCUMENT_SQL[conn.dialect.paramstyle]
        clock.saw(self.version)

    def document(self, kind: str, key: str) -> str | None:
        return self.conn.exec_driver_sql(self.document_sql, (kind, key)).scalar_one_or_none()

    def scalar(self, query: Select[Any]) -> Any:
        return self.conn.execute(query).scalar_one_or_none()

    def page(
        self,
        kind: str,
        keys: Select[Any],
        order: Order,
        limit: int,
        offset: int = 0,
        after: Sequence[Any] | None = None,
    ) -> PageOfDocs:
        """A page of `kind` documents whose keys the one-column query `keys` selects.

        With `after` (a keyset cursor's values) the page starts after that row, and `offset`
        only says where that is in the whole list; otherwise `offset` rows are skipped."""
        # Count at most TOTAL_CAP + 1 rows, so a total costs the same at any size of data.
        capped = keys.limit(TOTAL_CAP + 1).subquery()
        total = self.conn.execute(select(func.count()).select_from(capped)).scalar_one()
        query = keys if order.column is None else keys.add_columns(order.column)
        if after is not None:
            query = query.where(order.after(after))
        else:
            query = query.offset(offset)
        rows = self.conn.execute(query.order_by(*order.clauses()).limit(limit)).all()
        page = [str(row[0]) for row in rows]
        found = self.conn.execute(
            select(document.c.key, document.c.body).where(
                document.c.kind == kind, document.c.key.in_(page)
            )
        )
        bodies = {key: body for key, body in found}
        last = None
        if rows:
            row = rows[-1]
            last = (row[0],) if order.column is None else (row[1], row[0])
        exact = total <= TOTAL_CAP
        return PageOfDocs(
            min(total, TOTAL_CAP), limit, offset, [bodies[k] for k in page], last, exact
        )


class Reader:
    def __init__(self, engine: Engine, deadline: float = 10.0):
        self.engine = engine
        self.clock = VersionClock()
        self.inline = engine.dialect.name == "sqlite"
        self.deadline = deadline

    async def read(self, work: Callable[[Snapshot], T]) -> T:
        """`work(snapshot)`: inline on SQLite, in a worker thread on PostgreSQL."""
        if self.inline:
            return self.run(work)
        try:
            return await asyncio.wait_for(run_in_threadpool(self.run, work), self.deadline)
        except TimeoutError:
            # A server that accepts but never answers: the request gets its 503 in time;
            # the stuck thread ends when the connection's own timeouts give up.
            raise DatabaseTimeout(self.deadline) from None

    def run(self, work: Callable[[Snapshot], T]) -> T:
        with self.snapshot() as snap:
            return work(snap)

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        with self.engine.connect() as conn, conn.begin():
            yield Snapshot(conn, self.clock)
