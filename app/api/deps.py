"""What the routers share: the reader, list parameters, and answering with stored JSON."""

import datetime as dt
import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BeforeValidator

from app.read import Column, Keys, Order, Reader, Snapshot, utf8
from app.schemas import Problem

DATASET_HEADER = "X-Dataset-Version"


def reads(endpoint: Callable[..., Response]) -> Callable[..., Awaitable[Response]]:
    """Make `endpoint(snap, **params)` a route that reads one snapshot of the database.

    The route is async: on SQLite the reads run right in the event loop (they take
    microseconds, and a thread hop costs more); on PostgreSQL, in one worker thread, so a
    slow or unreachable server never stalls the loop. FastAPI sees `endpoint`'s parameters,
    less `snap`, plus the request."""
    signature = inspect.signature(endpoint)
    params = [p for name, p in signature.parameters.items() if name != "snap"]
    # FastAPI passes the request to one parameter only: reuse the endpoint's, if it has one.
    asks = next((p.name for p in params if p.annotation is Request), None)
    if asks is None:
        params.insert(
            0,
            inspect.Parameter(
                "_request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
            ),
        )
    request_name = asks or "_request"

    @functools.wraps(endpoint)
    async def route(**kwargs: Any) -> Response:
        request: Request = kwargs[request_name] if asks else kwargs.pop(request_name)
        require_acceptable(request)  # 406 before any work
        reader: Reader = request.app.state.reader
        return await reader.read(lambda snap: endpoint(snap=snap, **kwargs))

    del route.__wrapped__  # FastAPI must read the signature below, not endpoint's
    route.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return route


CountryCode = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 country code.",
        examples=["JP"],
    ),
]
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD: pydantic's lax mode would also take a number as a timestamp."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def order_of(sort: str, columns: dict[str, Column], key: Column) -> Order:
    """The order a `sort` value such as `-date` names, with the key as the tiebreak."""
    column = columns.get(sort.lstrip("-"))
    return Order(None if column is key else column, key, sort.startswith("-"))


class NotAcceptable(Exception):
    def __init__(self, offered: list[str]):
        self.offered = offered
        super().__init__(f"this resource is available as {', '.join(offered)}")


def _accept_ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(",")[:32]:
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if media:
            ranges.append((media.lower(), q))
    return ranges


def negotiate(request: Request, offered: list[str]) -> str:
    """The offered media type the client's Accept header prefers (the first on a tie)."""
    header = request.headers.get("accept", "")
    if not header.strip():
        return offered[0]
    ranges = _accept_ranges(header)
    best, best_q = None, 0.0
    for media in offered:
        kind = media.split("/")[0] + "/*"
        matches = [(r, q) for r, q in ranges if r in (media, kind, "*/*")]
        if not matches:
            continue
        # The most specific range that matches decides the quality.
        _, q = max(matches, key=lambda m: (m[0] == media, m[0] == kind))
        if q > best_q:
            best, best_q = media, q
    if best is None:
        raise NotAcceptable(offered)
    return best


def offered_media(request: Request) -> list[str]:
    """What the matched route declares it answers with: JSON, plus its 200 response's types."""
    route = request.scope.get("route")
    declared = getattr(route, "responses", {}).get(200, {}).get("content", {})
    return ["application/json", *(m for m in declared if m != "application/json")]


def require_acceptable(request: Request) -> None:
    """406 when the client accepts nothing the route offers."""
    negotiate(request, offered_media(request))


class BadParameter(Exception):
    """A parameter that passed its schema but names nothing in the data (answered as 422)."""

    def __init__(self, parameter: str, reason: str):
        self.parameter = parameter
        self.reason = reason
        super().__init__(f"{parameter}: {reason}")


def with_words(keys: Keys, column: str, q: str) -> Keys:
    """Each word of `q` must appear in `column` (case-insensitive, as a plain substring)."""
    for word in q.split()[:10]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        keys = keys.filter(f"lower({column}) LIKE lower(?) ESCAPE '\\'", f"%{escaped}%")
    return keys


class NotFound(Exception):
    def __init__(self, what: str, key: Any):
        self.detail = f"{what} {key!r} not found"
        super().__init__(self.detail)


def stamp_version(response: Response, snap: Snapshot) -> Response:
    response.headers.update(version_header(snap))
    return response


def version_header(snap: Snapshot) -> dict[str, str]:
    return {DATASET_HEADER: str(snap.version or 0)}


def json_bytes(body: str | bytes, snap: Snapshot) -> Response:
    return Response(utf8(body), headers=version_header(snap), media_type="application/json")


def document_or_404(snap: Snapshot, kind: str, key: str, what: str) -> Response:
    body = snap.document(kind, key)
    if body is None:
        raise NotFound(what, key)
    return json_bytes(body, snap)


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found", "model": Problem, "content": {"application/problem+json": {}}}
}
