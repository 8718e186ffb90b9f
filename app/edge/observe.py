"""The outermost layer: a request id, one access-log line and metrics for every request.

The log line is handed to a queue and written by a listener thread, so a slow terminal or
disk never blocks the event loop. Metrics are labelled by route template, never raw path.
"""

import json
import logging
import logging.handlers
import queue
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.edge.guard import problem_bytes

errors_log = logging.getLogger("app.errors")
SERVER_ERROR_BODY = problem_bytes(500, "Internal server error", "an unexpected error occurred", "")
SERVER_ERROR_START = {
    "type": "http.response.start",
    "status": 500,
    "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(SERVER_ERROR_BODY)).encode()),
        (b"cache-control", b"no-store"),
    ],
}
REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/dialogues/{dialogue}`), or a fixed label."""
    template = scope.get("route_template")
    if template:
        return str(template)
    route = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "Requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.cache = Counter(
            "response_cache_lookups", "Response cache lookups.", ["result"], registry=self.registry
        )
        self.dataset = Gauge(
            "dataset_info",
            "The dataset version this worker serves.",
            ["version"],
            registry=self.registry,
        )
        self._version: int | None = None
        self._cache_children = {r: self.cache.labels(r) for r in ("hit", "miss")}

    def cache_result(self, result: str) -> None:
        self._cache_children[result].inc()

    def serving(self, version: int | None) -> None:
        if version != self._version:
            self.dataset.clear()
            self.dataset.labels(version=str(version or 0)).set(1)
            self._version = version


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {"message": record.getMessage()}
        return json.dumps({"level": record.levelname.lower(), **fields}, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        f = getattr(record, "fields", None)
        if not f:
            return f"{record.levelname} {record.getMessage()}"
        return (
            f"{f['method']} {f['path']} {f['status']} {f['duration_ms']}ms "
            f"id={f['request_id']} client={f['client']}"
        )


def access_logger(log_format: str) -> tuple[logging.Logger, logging.handlers.QueueListener]:
    """A logger whose records go through a queue to a thread that writes them to stderr."""
    records: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stream = logging.StreamHandler()
    stream.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    listener = logging.handlers.QueueListener(records, stream)
    logger = logging.getLogger(f"app.access.{id(listener)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.handlers.QueueHandler(records))
    return logger, listener


class Recorder:
    """Echoes the request id and remembers the status. A class: no closure cycle per request."""

    __slots__ = ("request_id", "send", "started", "status")

    def __init__(self, send: Send, request_id: bytes):
        self.send = send
        self.request_id = request_id
        self.status = 500
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            headers = [*message.get("headers", []), (b"x-request-id", self.request_id)]
            message = {**message, "headers": headers}
        await self.send(message)


class Observe:
    def __init__(self, app: ASGIApp, metrics: Metrics, log: logging.Logger | None):
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex.encode()
        recorder = Recorder(send, request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, recorder)
        except Exception:
            # The last resort: whatever failed outside the API's own handlers, the client
            # gets a problem document, never a traceback.
            errors_log.exception("unhandled error on %s", scope["path"])
            if not recorder.started:
                await recorder(SERVER_ERROR_START)
                await recorder({"type": "http.response.body", "body": SERVER_ERROR_BODY})
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(recorder.status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if self.log is not None:
                self.log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": method,
                            "path": scope["path"],
                            "route": route,
                            "status": recorder.status,
                            "duration_ms": round(elapsed * 1000, 2),
                            "request_id": request_id.decode(),
                            "client": (scope.get("client") or ("-",))[0],
                        }
                    },
                )
