"""A response cache outside the routing: the data only changes when a seed is loaded, so a
response is a pure function of (dataset version, method, path, query, Accept, Accept-Encoding,
and Origin where CORS is not open to all).

It stores what the layers below it sent for a GET (200s with an ETag only) and replays it:
the same bytes and headers, a 304 when If-None-Match matches, no body for HEAD. Per-request
headers (X-Request-ID, Date) are never stored: uvicorn adds the date, and the request id is
added as a hit is sent. Bounded in bytes, least recently used first out; a newer dataset
version empties it.

A hit is the hot path of the whole API, so `answer()` is called straight from the outermost
layer (`Observe`, which times and counts it, and sends the answer): a hit then costs one pass
over the request's headers, one dictionary lookup and two messages. Only a miss goes down
through the layers.
"""

from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.edge.representations import Collector, etag_matches, wants_gzip

Key = tuple[int, str, bytes, bytes, bool, bytes]
NO_BODY = {"type": "http.response.body", "body": b""}
Answer = tuple[int, Message, Message]  # status, response start, response body


class Entry:
    __slots__ = ("body", "etag", "headers", "headers_304", "route", "size")

    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes, route: str | None):
        self.body = {"type": "http.response.body", "body": body}
        self.route = route
        self.etag = next(v for k, v in headers if k == b"etag").strip(b'"')
        self.headers = headers
        self.headers_304 = [(k, v) for k, v in headers if k != b"content-length"]
        self.size = len(body) + 2 * sum(len(k) + len(v) for k, v in headers) + 200

    def answer(
        self, scope: Scope, if_none_match: bytes, fresh: list[tuple[bytes, bytes]]
    ) -> Answer:
        """The stored response with the `fresh` headers added (a 304 if the client has it)."""
        if if_none_match and etag_matches(if_none_match, self.etag):
            start = {
                "type": "http.response.start",
                "status": 304,
                "headers": self.headers_304 + fresh,
            }
            return 304, start, NO_BODY
        start = {"type": "http.response.start", "status": 200, "headers": self.headers + fresh}
        return 200, start, NO_BODY if scope["method"] == "HEAD" else self.body


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

    def key(self, scope: Scope) -> tuple[Key | None, bytes]:
        """The request's key (None: not cacheable) and its If-None-Match."""
        version = self.version()
        if scope["method"] not in ("GET", "HEAD") or version is None:
            return None, b""
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
        return (version, scope["path"], scope["query_string"], accept, gzip, origin), if_none_match

    def answer(self, scope: Scope, fresh: list[tuple[bytes, bytes]]) -> Answer | None:
        """The status and the two messages that answer the request from the cache, adding
        the `fresh` headers; None when the cache does not hold the response. Not a coroutine:
        on a hit, the caller sends the messages (each await here would cost a coroutine)."""
        return self.stored(*self.key(scope), scope, fresh)

    def stored(
        self,
        key: Key | None,
        if_none_match: bytes,
        scope: Scope,
        fresh: list[tuple[bytes, bytes]],
    ) -> Answer | None:
        """`answer()` for a request whose key is known."""
        entry = self.entries.get(key) if key is not None else None
        if entry is None:
            return None
        self.entries.move_to_end(key)  # type: ignore[arg-type]
        self.count("hit")
        scope["route_template"] = entry.route
        return entry.answer(scope, if_none_match, fresh)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Fill the cache with what the layers below answer. A hit seldom gets here: only
        behind a rate limit (Observe asks `answer()` first otherwise)."""
        key, if_none_match = self.key(scope) if scope["type"] == "http" else (None, b"")
        if key is None:
            await self.app(scope, receive, send)
            return
        answer = self.stored(key, if_none_match, scope, [])
        if answer is not None:
            await send(answer[1])
            await send(answer[2])
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
