"""The outer edge: read-only methods, bounded URLs, CORS, security headers, dataset version.

It answers what never needs the app (405, 414, CORS preflight) and stamps every response,
errors included, with the headers a public read-only API owes its clients.
"""

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW = b"GET, HEAD, OPTIONS"
MAX_URL_BYTES = 2048
MAX_QUERY_PARAMS = 64
EXPOSE = b"ETag, Link, X-Dataset-Version, X-Request-ID, X-Total-Count, Retry-After"
PAGE_ONLY = [(b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
DATA_CSP = b"default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
)


def problem_bytes(status: int, title: str, detail: str, instance: str, **extra: object) -> bytes:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return json.dumps(body).encode()


def nul_parameter(query_string: bytes) -> str | None:
    """The first query parameter whose name or value holds a NUL character, if any."""
    if b"%00" not in query_string.lower() and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\0")
    return None


class Stamp:
    """Adds the edge's headers to the response start. A class, so no closure cycle per request."""

    __slots__ = ("extra", "html_csp", "send", "version")

    def __init__(
        self, send: Send, extra: list[tuple[bytes, bytes]], html_csp: bytes, version: bytes
    ):
        self.send = send
        self.extra = extra
        self.html_csp = html_csp
        self.version = version

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            if b"x-dataset-version" not in names:
                headers.append((b"x-dataset-version", self.version))
            if b"content-security-policy" not in names:
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):  # a page: no framing, no referrer
                    headers += [(b"content-security-policy", self.html_csp), *PAGE_ONLY]
                else:
                    headers.append((b"content-security-policy", DATA_CSP))
            message = {**message, "headers": headers + self.extra}
        await self.send(message)


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        version: Callable[[], int | None],
        cors_origins: list[str],
        docs_csp: dict[str, bytes],
    ):
        self.app = app
        self.version = version
        self.any_origin = "*" in cors_origins
        self.origins = {o.encode() for o in cors_origins}
        self.docs_csp = docs_csp
        self.static = [(b"x-content-type-options", b"nosniff")]

    def cors(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if self.any_origin:
            return [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", EXPOSE),
            ]
        if origin is not None and origin in self.origins:
            return [
                (b"access-control-allow-origin", origin),
                (b"access-control-expose-headers", EXPOSE),
                (b"vary", b"Origin"),
            ]
        return []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        version = str(self.version() or 0).encode()
        extra = self.static + self.cors(scope)
        stamp = Stamp(send, extra, self.docs_csp.get(scope["path"], PAGE_CSP), version)
        method = scope["method"]
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope["query_string"]
        )
        if url_bytes > MAX_URL_BYTES:
            detail = f"the URL is {url_bytes} bytes long; the limit is {MAX_URL_BYTES}"
            await self.refuse(stamp, scope, 414, "URI too long", detail)
        elif scope["query_string"].count(b"&") >= MAX_QUERY_PARAMS:
            detail = f"too many query parameters; the limit is {MAX_QUERY_PARAMS}"
            await self.refuse(stamp, scope, 400, "Bad request", detail)
        elif "\x00" in scope["path"]:  # no id holds a NUL character (PostgreSQL can't store one)
            await self.refuse(stamp, scope, 404, "Not found", f"no resource at {scope['path']!r}")
        elif (name := nul_parameter(scope["query_string"])) is not None:
            detail = f"{name}: must not contain a NUL character"
            errors = [
                {"parameter": name, "in": "query", "reason": "must not contain a NUL character"}
            ]
            await self.refuse(stamp, scope, 422, "Invalid parameter", detail, errors=errors)
        elif method == "OPTIONS":
            await self.options(stamp, scope)
        elif method not in ("GET", "HEAD"):
            detail = f"{method} is not allowed: this API is read-only (GET, HEAD, OPTIONS)"
            await self.refuse(stamp, scope, 405, "Method not allowed", detail, [(b"allow", ALLOW)])
        else:
            await self.app(scope, receive, stamp)

    async def refuse(
        self,
        send: Send,
        scope: Scope,
        status: int,
        title: str,
        detail: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        **extra: object,
    ) -> None:
        body = problem_bytes(status, title, detail, scope["path"], **extra)
        if scope["method"] == "HEAD":
            body = b""
        all_headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *(headers or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": all_headers})
        await send({"type": "http.response.body", "body": body})

    async def options(self, send: Send, scope: Scope) -> None:
        requested = next(
            (v for k, v in scope["headers"] if k == b"access-control-request-headers"), b""
        )
        headers = [
            (b"allow", ALLOW),
            (b"access-control-allow-methods", ALLOW),
            (b"access-control-max-age", b"86400"),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
