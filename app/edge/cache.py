"""A response cache outside the routing: the data only changes when a seed is loaded, so a
response is a pure function of (dataset version, method, path, query, Accept, Accept-Encoding,
and Origin where CORS is not open to all).

It stores what the layers below it sent for a GET (200s with an ETag only) and replays it:
the same bytes and headers, a 304 when If-None-Match matches, no body for HEAD. Per-request
headers (X-Request-ID, Date) are added outside it, never stored. Bounded in bytes, least
recently used first out; a newer dataset version empties it.
"""

from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.edge.representations import Collector, etag_matches, wants_gzip

Key = tuple[int, str, bytes, bytes, bool, bytes]
NO_BODY = {"type": "http.response.body", "body": b""}


class Entry:
    __slots__ = ("body", "etag", "route", "size", "start_200", "start_304")

    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes, route: str | None):
        self.body = {"type": "http.response.body", "body": body}
        self.route = route
        self.etag = next(v for k, v in headers if k == b"etag").strip(b'"')
        self.start_200 = {"type": "http.response.start", "status": 200, "headers": headers}
        not_modified = [(k, v) for k, v in headers if k != b"content-length"]
        self.start_304 = {"type": "http.response.start", "status": 304, "headers": not_modified}
        self.size = len(body) + 2 * sum(len(k) + len(v) for k, v in headers) + 200

    async def replay(self, scope: Scope, if_none_match: bytes, send: Send) -> None:
        if if_none_match and etag_matches(if_none_match, self.etag):
            await send(self.start_304)
            await send(NO_BODY)
            return
        await send(self.start_200)
        await send(NO_BODY if scope["method"] == "HEAD" else self.body)


class ResponseCache:
    def __init__(
        self,
        app: ASGIApp,
        version: Callable[[], int | None],
        budget_bytes: int,
        vary_origin: bool,
        count: Callable[[str], None],
    ):
        self.app = app
        self.version = version
        self.budget = budget_bytes
        self.vary_origin = vary_origin
        self.count = count
        self.entries: OrderedDict[Key, Entry] = OrderedDict()
        self.size = 0
        self.stored_version: int | None = None

    def usage(self) -> tuple[int, int]:
        """Bytes held (as counted against the budget) and entries."""
        return self.size, len(self.entries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        version = self.version()
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or version is None:
            await self.app(scope, receive, send)
            return
        accept = if_none_match = origin = encodings = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
            elif name == b"accept-encoding":
                encodings = value
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"origin" and self.vary_origin:
                origin = value
        gzip = bool(encodings) and wants_gzip(encodings)
        key = (version, scope["path"], scope["query_string"], accept, gzip, origin)
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            self.count("hit")
            scope["route_template"] = entry.route
            await entry.replay(scope, if_none_match, send)
            return
        self.count("miss")
        if scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        capture = Collector(send)
        await self.app(scope, receive, capture)
        self.keep(key, capture, scope.get("route_template"))

    def keep(self, key: Key, capture: Collector, route: str | None) -> None:
        headers = dict(capture.headers)
        served = headers.get(b"x-dataset-version", b"")
        if capture.status != 200 or b"etag" not in headers or served != str(key[0]).encode():
            return  # an error, an uncacheable response, or one from another dataset version
        if self.stored_version is None or key[0] > self.stored_version:
            self.entries.clear()
            self.size = 0
            self.stored_version = key[0]
        elif key[0] < self.stored_version or key in self.entries:
            return
        entry = Entry(capture.headers, bytes(capture.body), route)
        if entry.size > self.budget // 4:
            return  # one response may not crowd out the rest
        self.entries[key] = entry
        self.size += entry.size
        while self.size > self.budget:
            _, evicted = self.entries.popitem(last=False)
            self.size -= evicted.size
