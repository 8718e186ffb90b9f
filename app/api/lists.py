"""How every list answers: paging (offset or keyset cursor), RFC 8288 links, JSON or CSV."""

import base64
import csv
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

import orjson
from fastapi import Depends, Query, Request
from fastapi.responses import Response

from app.api.deps import negotiate, version_header
from app.read import Keys, Order, PageOfDocs, Snapshot

MAX_OFFSET = 10_000
URL_SAFE = "-_.~,:"  # besides letters and digits: what a link's query keeps unescaped
LIST_MEDIA = ["application/json", "text/csv"]
CSV = "text/csv; charset=utf-8"
SORT_HELP = (
    "Sort order; a leading `-` means descending. Missing values come last; ties are broken by id."
)


class BadCursor(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def encode_cursor(values: tuple[Any, ...], position: int) -> str:
    plain = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    raw = json.dumps([plain, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: Order) -> tuple[list[Any], int]:
    """The cursor's row values and position; BadCursor when it is not one this API made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values, position = json.loads(raw)
    except ValueError as exc:
        raise BadCursor("the cursor is not one this API issued") from exc
    columns = order.columns()
    if not isinstance(values, list) or len(values) != len(columns) or type(position) is not int:
        raise BadCursor("the cursor does not fit this list and sort order")
    if not 0 < position <= 10**9:
        raise BadCursor("the cursor's position is out of range")
    return [
        _typed(v, c, nullable=c is not order.key) for v, c in zip(values, columns, strict=True)
    ], position


def _typed(value: Any, column: Any, nullable: bool) -> Any:
    """The cursor value as the column's Python type, or BadCursor."""
    if value is None and nullable:
        return None
    kind = column.type
    if kind is dt.date and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    elif kind is float and type(value) in (int, float) and math.isfinite(value):
        return float(value)
    elif (kind is int and type(value) is int and abs(value) < 2**63) or (
        kind is str and isinstance(value, str) and len(value) <= 200
    ):
        return value
    raise BadCursor("the cursor's values do not fit this list")


class Paging:
    """A list request's paging and format: where to start, how many, JSON or CSV."""

    def __init__(self, request: Request, limit: int, offset: int, cursor: str | None, media: str):
        self.request = request
        self.limit = limit
        self.offset = offset
        self.cursor = cursor
        self.media_type = media
        self.kept: str | None = None  # the URL less offset and cursor, once made

    def page(self, snap: Snapshot, kind: str, keys: Keys, order: Order) -> PageOfDocs:
        if self.cursor is None:
            return snap.page(kind, keys, order, self.limit, self.offset)
        values, position = decode_cursor(self.cursor, order)
        return snap.page(kind, keys, order, self.limit, position, after=values)

    def respond(self, page: PageOfDocs, snap: Snapshot) -> Response:
        next_url = self.next_url(page)
        headers = {"Link": self.links(page, next_url), "X-Total-Count": str(page.total)}
        headers |= version_header(snap)
        if self.media_type == "text/csv":
            headers["Content-Disposition"] = f'inline; filename="{self.filename()}"'
            return Response(csv_of(page.bodies), headers=headers, media_type=CSV)
        head = orjson.dumps(
            {
                "total": page.total,
                "total_relation": "eq" if page.exact_total else "gte",
                "limit": page.limit,
                "offset": page.offset,
                "next": next_url,
            }
        )
        body = head[:-1] + b',"items":[' + b",".join(page.bodies) + b"]}"
        return Response(body, headers=headers, media_type="application/json")

    def next_url(self, page: PageOfDocs) -> str | None:
        """The next page: by keyset cursor where the list has one, else by offset."""
        if not page.has_next:
            return None
        position = page.offset + len(page.bodies)
        if page.last is not None:
            return self.url(cursor=encode_cursor(page.last, position))
        return self.url(offset=position) if position <= MAX_OFFSET else None

    def url(self, **changes: Any) -> str:
        """This list's URL with its other parameters kept and `changes` applied (ASCII only)."""
        if self.kept is None:
            query = "".join(
                f"{quote(k, safe=URL_SAFE)}={quote(v, safe=URL_SAFE)}&"
                for k, v in self.request.query_params.multi_items()
                if k not in ("offset", "cursor")
            )
            self.kept = quote(self.request.scope["path"]) + "?" + query
        added = "&".join(
            f"{k}={v if type(v) is int else quote(str(v), safe=URL_SAFE)}"
            for k, v in changes.items()
            if v is not None
        )
        return (self.kept + added).rstrip("?&")

    def links(self, page: PageOfDocs, next_url: str | None) -> str:
        links = [(self.url(offset=0), "first")]
        if page.offset > 0 and page.offset - self.limit <= MAX_OFFSET:
            links.append((self.url(offset=max(0, page.offset - self.limit)), "prev"))
        if next_url:
            links.append((next_url, "next"))
        last = max(0, (page.total - 1) // self.limit * self.limit)
        if page.exact_total and last <= MAX_OFFSET:
            links.append((self.url(offset=last), "last"))
        return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)

    def filename(self) -> str:
        return self.request.scope["path"].strip("/").replace("/", "-") + ".csv"


async def paging(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")] = 20,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Items to skip (0-10,000); see `cursor`.")
    ] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            description="Where to continue: the opaque value a `next` link carries. "
            "It walks a list to its end at any depth; `offset` stops at 10,000.",
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None,
        Query(description="`csv` for a spreadsheet (the same as `Accept: text/csv`)."),
    ] = None,
) -> Paging:
    """The paging and format parameters every list takes (async: no thread hop to parse them)."""
    media = {"json": "application/json", "csv": "text/csv"}.get(format or "")
    return Paging(request, limit, offset, cursor, media or negotiate(request, LIST_MEDIA))


PagingDep = Annotated[Paging, Depends(paging)]


def csv_of(bodies: Sequence[str | bytes]) -> bytes:
    """One row per item, one column per field; nested values flattened for a spreadsheet."""
    rows = [flatten(json.loads(body)) for body in bodies]
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def flatten(item: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            ident = value.get("id", value.get("slug", value.get("code")))
            row[key] = ident if ident is not None else json.dumps(value, ensure_ascii=False)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            if key == "evidence":
                row["evidence_quotes"] = " | ".join(str(e.get("quote") or "") for e in value)
                row["evidence_links"] = " ".join(str(e.get("link")) for e in value)
            else:
                row[key] = "; ".join(
                    str(v.get("id", v.get("slug", v.get("text", "")))) for v in value
                )
        elif isinstance(value, list):
            row[key] = "; ".join(str(v) for v in value)
        else:
            row[key] = value
    return row


LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of the list (JSON), or the page as CSV (`text/csv`).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
