"""An optional per-client rate limit (a token bucket per address), answered as a 429 problem."""

import math
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.edge.guard import problem_bytes

MAX_CLIENTS = 100_000  # forget everyone past this, rather than grow without bound


class RateLimit:
    def __init__(self, app: ASGIApp, per_minute: int, exempt: tuple[str, ...] = ()):
        self.app = app
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens a second
        self.exempt = exempt
        self.buckets: dict[str, tuple[float, float]] = {}

    def wait(self, client: str) -> float:
        """Seconds until `client` may send again; 0 takes a token now."""
        now = time.monotonic()
        tokens, seen = self.buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - seen) * self.rate)
        if tokens >= 1:
            if len(self.buckets) >= MAX_CLIENTS:
                self.buckets.clear()
            self.buckets[client] = (tokens - 1, now)
            return 0.0
        self.buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.wait(client)
        if not wait:
            await self.app(scope, receive, send)
            return
        retry = str(max(1, math.ceil(wait)))
        detail = (
            f"more than {int(self.capacity)} requests a minute from {client}; retry in {retry} s"
        )
        body = problem_bytes(429, "Too many requests", detail, scope["path"])
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", retry.encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
