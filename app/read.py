"""Read functions: lean Core queries over the tables, answering with prebuilt documents.

Every request reads one snapshot: one transaction in which the dataset version, the keys
and the documents are read together, so a response is wholly from one loaded dataset.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Connection, Engine

from app import models as m

document = m.Document.__table__  # type: ignore[attr-defined]
dataset_version = m.DatasetVersion.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PageOfDocs:
    total: int
    limit: int
    offset: int
    bodies: list[str]

    def json(self) -> bytes:
        items = ",".join(self.bodies)
        head = f'{{"total":{self.total},"limit":{self.limit},"offset":{self.offset},"items":['
        return (head + items + "]}").encode()


class Snapshot:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.version: int | None = conn.execute(
            select(func.max(dataset_version.c.version))
        ).scalar()

    def document(self, kind: str, key: str) -> str | None:
        return self.conn.execute(
            select(document.c.body).where(document.c.kind == kind, document.c.key == key)
        ).scalar_one_or_none()

    def scalar(self, query: Select[Any]) -> Any:
        return self.conn.execute(query).scalar_one_or_none()

    def page(
        self,
        kind: str,
        keys: Select[Any],
        order_by: Sequence[ColumnElement[Any]],
        limit: int,
        offset: int,
    ) -> PageOfDocs:
        """A page of `kind` documents whose keys the one-column query `keys` selects."""
        total = self.conn.execute(select(func.count()).select_from(keys.subquery())).scalar_one()
        page = [
            str(k)
            for k in self.conn.execute(
                keys.order_by(*order_by).limit(limit).offset(offset)
            ).scalars()
        ]
        rows = self.conn.execute(
            select(document.c.key, document.c.body).where(
                document.c.kind == kind, document.c.key.in_(page)
            )
        )
        bodies = {key: body for key, body in rows}
        return PageOfDocs(total, limit, offset, [bodies[k] for k in page])


class Reader:
    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        with self.engine.connect() as conn, conn.begin():
            yield Snapshot(conn)
