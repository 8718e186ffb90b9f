"""ETag, 304, gzip, HEAD and Cache-Control for every data response, in one pure ASGI layer.

The app's data responses are small and whole, so this layer buffers each one, then sends
the representation the client asked for. A stored response (see `cache.py`) goes out through
the same `send_stored`, so a cached answer is byte for byte the answer the app would give.
"""

import functools
import gzip
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from xxhash import xxh3_128

CACHE_CONTROL = b"public, max-age=60, must-revalidate"
VARY = b"Accept, Accept-Encoding"
COMPRESSIBLE = (b"application/json", b"application/problem+json", b"text/", b"application/xml")
MIN_GZIP_BYTES = 512
# Headers that belong to one exchange, never to a stored representation.
PER_EXCHANGE = {b"date", b"server", b"x-request-id", b"content-length", b"set-cookie"}


@dataclass
class Stored:
    """One response of the app, with both encodings and their strong ETags."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes = b""
    compressible: bool = False
    _gzipped: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_app(cls, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> "Stored":
        headers: list[tuple[bytes, bytes]] = []
        first: dict[bytes, bytes] = {}  # each header's first value
        for name, value in raw_headers:
            name = name.lower()
            if name not in PER_EXCHANGE:
                headers.append((name, value))
                first.setdefault(name, value)
        stored = cls(status, headers, body)
        media_type = first.get(b"content-type", b"")
        stored.compressible = (
            b"content-encoding" not in first
            and len(body) >= MIN_GZIP_BYTES
            and media_type.startswith(COMPRESSIBLE)
        )
        if status == 200 and b"cache-control" not in first:  # the app's data: cacheable
            digest = xxh3_128(media_type + b"\n")  # a 128-bit hash at memory speed
            digest.update(body)
            stored.etag = digest.hexdigest().encode()
            headers.append((b"cache-control", CACHE_CONTROL))
        if stored.etag or stored.compressible:
            stored.vary(VARY, first.get(b"vary"))
        return stored

    def vary(self, names: bytes, given: bytes | None) -> None:
        """Merge `names` into one Vary header (the app may have sent its own)."""
        if given is None:
            self.headers.append((b"vary", names))
            return
        tokens: list[bytes] = []
        for value in [v for k, v in self.headers if k == b"vary"] + [names]:
            tokens += [
                t.strip()
                for t in value.split(b",")
                if t.strip().lower() not in map(bytes.lower, tokens)
            ]
        self.headers = [(k, v) for k, v in self.headers if k != b"vary"] + [
            (b"vary", b", ".join(tokens))
        ]

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:  # mtime=0: the same bytes on every replica
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

    @property
    def size(self) -> int:
        return (
            len(self.body)
            + len(self._gzipped or b"")
            + sum(len(k) + len(v) for k, v in self.headers)
        )


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def accepts_gzip(scope: Scope) -> bool:
    return wants_gzip(_header(scope, b"accept-encoding"))


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct values
def wants_gzip(accept_encoding: bytes) -> bool:
    for coding in accept_encoding.split(b","):
        name, _, params = coding.strip().partition(b";")
        if name.strip() in (b"gzip", b"*"):
            return params.replace(b" ", b"") not in (b"q=0", b"q=0.0", b"q=0.00", b"q=0.000")
    return False


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match.strip() == b"*":
        return True
    for candidate in if_none_match.split(b","):
        tag = candidate.strip().removeprefix(b"W/").strip(b'"')
        if tag == etag:
            return True
    return False


async def send_stored(stored: Stored, scope: Scope, send: Send) -> None:
    """Send `stored` as the client asked: gzip or not, 304 or whole, GET or HEAD."""
    headers = list(stored.headers)
    body = stored.body
    etag = stored.etag
    if stored.compressible and accepts_gzip(scope):
        body = stored.gzipped
        headers.append((b"content-encoding", b"gzip"))
        etag = etag + b"-gzip" if etag else etag
    if etag:
        headers.append((b"etag", b'"' + etag + b'"'))
        if_none_match = _header(scope, b"if-none-match")
        if if_none_match and etag_matches(if_none_match, etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class Collector:
    """Gathers what the app sends and, given a `send`, passes it on too. A class, not a
    closure, so no reference cycle per request."""

    __slots__ = ("body", "headers", "send", "status")

    def __init__(self, send: Send | None = None) -> None:
        self.send = send
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        if self.send is not None:
            await self.send(message)

    def stored(self) -> Stored:
        return Stored.from_app(self.status, self.headers, bytes(self.body))


async def render(app: ASGIApp, scope: Scope, receive: Receive) -> Stored:
    """Run the app for a GET (also for a HEAD) and keep its whole response."""
    collector = Collector()
    inner: dict[str, Any] = dict(scope)
    inner["method"] = "GET"
    try:
        await app(inner, receive, collector)
    finally:
        route = inner.get("route")  # for the metrics and log of the layers outside
        scope["route_template"] = getattr(route, "path", None)
    return collector.stored()


class Representations:
    """Answers GET and HEAD with the app's response as the client asked for it."""

    def __init__(self, app: ASGIApp, passthrough: tuple[str, ...] = ()):
        self.app = app
        self.passthrough = passthrough

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"].startswith(self.passthrough)
        ):
            await self.app(scope, receive, send)
            return
        await send_stored(await render(self.app, scope, receive), scope, send)
