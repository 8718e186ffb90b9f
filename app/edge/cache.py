"""A response cache outside the routing: the data only changes when a seed is loaded, so a
response is a pure function of (dataset version, method, path, query, Accept, Accept-Encoding,
and Origin where CORS is not open to all).

It stores what the layers below it sent for a GET (200s with an ETag only) and replays it:
the same bytes and headers, a 304 when If-None-Match matches, no body for HEAD. Per-request
headers (X-Request-ID, Date) are never stored: uvicorn adds the date, and the request id is
added as a hit is sent. Bounded in bytes; a newer dataset version empties it. Eviction gives
a second chance (the "clock" approximation of least recently used): the oldest entry goes
unless it was hit since it was last passed over, in which case it moves to the back. A hit
only sets a flag, cheaper than reordering the entries on every hit.

A hit is the hot path of the whole API, so `answer()` is called straight from the outermost
layer (`Observe`, which gives it its request id, counts it and sends the answer): a hit then
costs one pass over the request's headers (which also picks up the request id a client sent),
one dictionary lookup and two messages. Only a miss goes down through the layers.
"""

from collections import OrderedDict
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.edge.observe import route_template
from app.edge.representations import Collector, etag_matches, wants_gzip

Key = tuple[int, str, bytes, bytes, bool, bytes]
Headers = list[tuple[bytes, bytes]]
Labels = tuple[str, str, int]  # the metrics' (method, route, status)
NO_BODY = {"type": "http.response.body", "body": b""}


class Clock(Protocol):
    value: int | None  # the dataset version being served


# status, headers, the body message, the metrics' labels, and the X-Request-ID the client sent
Answer = tuple[int, Headers, Message, Labels, bytes]


class Entry:
    __slots__ = ("body", "etag", "headers", "headers_304", "labels", "route", "size", "used")

    def __init__(self, headers: Headers, body: bytes, route: str):
        self.body = {"type": "http.response.body", "body": body}
        self.route = route
        self.labels = {200: ("GET", route, 200), 304: ("GET", route, 304)}  # made once
        self.etag = next(v for k, v in headers if k == b"etag").strip(b'"')
        self.headers = headers
        self.headers_304 = [(k, v) for k, v in headers if k != b"content-length"]
        self.size = len(body) + 2 * sum(len(k) + len(v) for k, v in headers) + 200
        self.used = True  # asked for since eviction last passed it over (as a new entry was)


class ResponseCache:
    def __init__(
        self,
        app: ASGIApp,
        clock: Clock,
        budget_bytes: int,
        vary_origin: bool,
    ):
        self.app = app
        self.clock = clock
        self.budget = budget_bytes
        self.vary_origin = vary_origin
        self.hits = self.misses = 0
        self.entries: OrderedDict[Key, Entry] = OrderedDict()
        self.size = 0
        self.stored_version: int | None = None

    def usage(self) -> tuple[int, int]:
        """Bytes held (as counted against the budget) and entries."""
        return self.size, len(self.entries)

    def lookups(self) -> dict[str, int]:
        return {"hit": self.hits, "miss": self.misses}

    def key(self, scope: Scope) -> tuple[Key | None, bytes, bytes]:
        """The request's key (None: not cacheable), its If-None-Match and its X-Request-ID."""
        version = self.clock.value
        if version is None or scope["method"] not in ("GET", "HEAD"):
            return None, b"", b""
        accept = if_none_match = origin = encodings = request_id = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
            elif name == b"accept-encoding":
                encodings = value
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"origin" and self.vary_origin:
                origin = value
            elif name == b"x-request-id" and not request_id:  # the first, as on a miss
                request_id = value
        gzip = bool(encodings) and wants_gzip(encodings)
        key = (version, scope["path"], scope["query_string"], accept, gzip, origin)
        return key, if_none_match, request_id

    def answer(self, scope: Scope) -> Answer | None:
        """What answers the request from the cache: the status, the headers (the caller adds
        its own, per request), the body message, the metrics' labels and the X-Request-ID the
        client sent; None when the cache does not hold the response. Not a coroutine: on a hit,
        the caller sends the messages (each await here would cost a coroutine). Written in one
        piece: this is the path every hit takes."""
        key, if_none_match, request_id = self.key(scope)
        entry = self.entries.get(key)  # type: ignore[arg-type]  # no entry has the key None
        if entry is None:
            return None
        entry.used = True
        self.hits += 1
        method = scope["method"]  # GET or HEAD: key() gives other methods no key
        if if_none_match and etag_matches(if_none_match, entry.etag):
            status, headers, body = 304, entry.headers_304, NO_BODY
        else:
            status, headers = 200, entry.headers
            body = NO_BODY if method == "HEAD" else entry.body
        labels = entry.labels[status] if method == "GET" else (method, entry.route, status)
        return status, headers, body, labels, request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Fill the cache with what the layers below answer. A hit seldom gets here: only
        behind a rate limit (Observe asks `answer()` first otherwise)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = self.answer(scope)
        if answer is not None:
            status, headers, body, labels, _ = answer
            scope["route_template"] = labels[1]  # for the metrics and the log
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send(body)
            return
        key = self.key(scope)[0]  # a miss reads the headers again: cheap next to rendering it
        if key is None:
            await self.app(scope, receive, send)
            return
        self.misses += 1
        if scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        capture = Collector(send)
        await self.app(scope, receive, capture)
        self.keep(key, capture, route_template(scope))

    def keep(self, key: Key, capture: Collector, route: str) -> None:
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
            oldest, evicted = self.entries.popitem(last=False)
            if evicted.used:  # a second chance
                evicted.used = False
                self.entries[oldest] = evicted
            else:
                self.size -= evicted.size
