"""What the routers share: the reader, list parameters, and answering with stored JSON."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.read import PageOfDocs, Snapshot
from app.schemas import Problem

DATASET_HEADER = "X-Dataset-Version"


def get_snapshot(request: Request) -> Iterator[Snapshot]:
    with request.app.state.reader.snapshot() as snap:
        yield snap


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")]
Offset = Annotated[int, Query(ge=0, le=10_000, description="Items to skip (0-10,000).")]
CountryCode = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 country code.",
        examples=["JP"],
    ),
]
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SORT_HELP = (
    "Sort order; a leading `-` means descending. Missing values come last; ties are broken by id."
)


def order(sort: str, columns: dict[str, Any], tiebreak: Any) -> list[Any]:
    """ORDER BY for a `sort` value such as `-date`: the column, then the id as a tiebreak."""
    column = columns[sort.lstrip("-")]
    if sort.startswith("-"):
        return [column.desc().nulls_last(), tiebreak.desc()]
    return [column.asc().nulls_last(), tiebreak.asc()]


class BadParameter(Exception):
    """A parameter that passed its schema but names nothing in the data (answered as 422)."""

    def __init__(self, parameter: str, reason: str):
        self.parameter = parameter
        self.reason = reason
        super().__init__(f"{parameter}: {reason}")


def require_known(snap: Snapshot, column: Any, values: list[str], name: str, listing: str) -> None:
    known = set(snap.conn.execute(select(column).where(column.in_(values))).scalars())
    unknown = sorted(set(values) - known)
    if unknown:
        raise BadParameter(name, f"unknown {name} {', '.join(map(repr, unknown))}: see {listing}")


def words_filter(column: Any, q: str) -> list[Any]:
    """Each word of `q` must appear in `column` (case-insensitive, as a plain substring)."""
    words = q.split()[:10]
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    return [column.ilike(f"%{w}%", escape="\\") for w in escaped]


class NotFound(Exception):
    def __init__(self, what: str, key: Any):
        self.detail = f"{what} {key!r} not found"
        super().__init__(self.detail)


def json_bytes(body: str | bytes, snap: Snapshot) -> Response:
    content = body.encode() if isinstance(body, str) else body
    headers = {DATASET_HEADER: str(snap.version or 0)}
    return Response(content=content, media_type="application/json", headers=headers)


def document_or_404(snap: Snapshot, kind: str, key: str, what: str) -> Response:
    body = snap.document(kind, key)
    if body is None:
        raise NotFound(what, key)
    return json_bytes(body, snap)


def page_response(page: PageOfDocs, snap: Snapshot) -> Response:
    return json_bytes(page.json(), snap)


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found", "model": Problem, "content": {"application/problem+json": {}}}
}
