"""The outermost layer: a request id, one access-log line and metrics for every request.

The log line's fields are handed to a queue and formatted and written by a thread, so a slow
terminal or disk never blocks the event loop. Metrics are labelled by route template, never raw path,
and kept as plain counters that a Prometheus collector reads at scrape time: counting a
request costs a dictionary update, not a lock per metric.
"""

import bisect
import itertools
import json
import logging
import os
import queue
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
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
ID_BATCH = 1024
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/dialogues/{dialogue}`), or a fixed label."""
    template = scope.get("route_template")
    if template:
        return str(template)
    route = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


class CacheStats(Protocol):
    def usage(self) -> tuple[int, int]:
        """Bytes held (as counted against the budget) and entries."""

    def lookups(self) -> dict[str, int]:
        """Lookups so far, by result (hit, miss)."""


class Metrics(Collector):
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        # (method, route) -> [requests in each latency bucket..., +Inf, sum of seconds]
        self.timings: dict[tuple[str, str], list[float]] = {}
        self.cache: CacheStats | None = None
        self.version: int | None = None
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request the API rendered, and time it."""
        self.requests[(method, route, status)] += 1
        timings = self.timings.get((method, route))
        if timings is None:
            timings = self.timings[(method, route)] = [0.0] * (len(BUCKETS) + 2)
        timings[bisect.bisect_left(BUCKETS, seconds)] += 1
        timings[-1] += seconds

    def serving(self, version: int | None) -> None:
        self.version = version

    def collect(self) -> Iterator[Any]:
        requests = CounterMetricFamily(
            "http_requests", "Requests answered.", labels=["method", "route", "status"]
        )
        for (method, route, status), count in list(self.requests.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time to render a request (response cache hits are counted, not timed).",
            labels=["method", "route"],
        )
        bounds = [*map(str, BUCKETS), "+Inf"]
        for key, timings in list(self.timings.items()):
            cumulative = list(itertools.accumulate(timings[:-1]))
            latency.add_metric(list(key), list(zip(bounds, cumulative, strict=True)), timings[-1])
        yield latency
        if self.cache is not None:
            cache = CounterMetricFamily(
                "response_cache_lookups", "Response cache lookups.", labels=["result"]
            )
            for result, count in self.cache.lookups().items():
                cache.add_metric([result], count)
            yield cache
            used, entries = self.cache.usage()
            yield GaugeMetricFamily(
                "response_cache_bytes",
                "Bytes the response cache holds (its budget's measure).",
                value=used,
            )
            yield GaugeMetricFamily(
                "response_cache_entries", "Responses the response cache holds.", value=entries
            )
        dataset = GaugeMetricFamily(
            "dataset_info", "The dataset version this worker serves.", labels=["version"]
        )
        dataset.add_metric([str(self.version or 0)], 1)
        yield dataset


Entry = tuple[str, str, str, int, float, str, str]  # method, path, route, status, s, id, client


class AccessLog:
    """One line a request. The event loop only queues the fields; a thread formats and writes
    them, so neither formatting nor a slow terminal or disk costs the loop anything."""

    GATHER_SECONDS = 0.02

    def __init__(self, log_format: str):
        self.as_json = log_format == "json"
        self.queue: queue.SimpleQueue[Entry | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    def record(
        self, scope: Scope, route: str, status: int, seconds: float, request_id: bytes
    ) -> None:
        client = (scope.get("client") or ("-",))[0]
        entry = (scope["method"], scope["path"], route, status, seconds)
        self.queue.put_nowait((*entry, request_id.decode(), client))

    def start(self) -> None:
        self.thread = threading.Thread(target=self.write, name="access-log", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        if self.thread is not None:
            self.thread.join(timeout=5)

    def write(self) -> None:
        """Write the lines in batches: the thread wakes once a batch, not once a line, so it
        takes the interpreter from the event loop that much less often."""
        while True:
            batch = [self.queue.get()]
            time.sleep(self.GATHER_SECONDS)
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            ended = None in batch
            lines = [self.format(entry) for entry in batch if entry is not None]
            if lines:
                sys.stderr.write("\n".join(lines) + "\n")
                sys.stderr.flush()
            if ended:
                return

    def format(self, entry: Entry) -> str:
        method, path, route, status, seconds, request_id, client = entry
        duration_ms = round(seconds * 1000, 2)
        if self.as_json:
            fields: dict[str, object] = {"level": "info", "method": method, "path": path}
            fields |= {"route": route, "status": status, "duration_ms": duration_ms}
            fields |= {"request_id": request_id, "client": client}
            return json.dumps(fields, ensure_ascii=False)
        return f"{method} {path} {status} {duration_ms}ms id={request_id} client={client}"


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


class Cache(Protocol):
    def answer(
        self, scope: Scope
    ) -> tuple[int, list[tuple[bytes, bytes]], Message, tuple[str, str, int], bytes] | None:
        """The status, headers and body message that answer from the cache, the metrics'
        labels (method, route, status) and the X-Request-ID the client sent; or None."""


class Observe:
    """Times, counts and logs every request, and gives it its id. A response `cache` in reach
    (no rate limit between) is asked first: a hit is answered here, without the layers."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, log: AccessLog | None, cache: Cache | None = None
    ):
        self.app = app
        self.metrics = metrics
        self.log = log
        self.hits = cache
        # Request ids unique across workers and restarts: a random prefix and a counter.
        self.prefix = os.urandom(6).hex().encode() + b"-"
        self.batches = itertools.count(0)
        self.ids: Iterator[bytes] = iter(())

    def request_id(self, sent: bytes) -> bytes:
        """The id the client sent, if it is a sound one; else a new one."""
        if sent and REQUEST_ID.match(sent):
            return sent
        return next(self.ids, b"") or self.more_ids()

    def more_ids(self) -> bytes:
        """The next request id, making a new batch of them: formatted together, they cost less
        than one at a time."""
        first = next(self.batches) * ID_BATCH + 1
        self.ids = iter([b"%s%d" % (self.prefix, n) for n in range(first, first + ID_BATCH)])
        return next(self.ids)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.hits is not None:
            started = time.perf_counter() if self.log is not None else 0.0
            hit = self.hits.answer(scope)
            if hit is not None:
                status, headers, body, labels, sent_id = hit
                request_id = self.request_id(sent_id)
                headers = [*headers, (b"x-request-id", request_id)]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send(body)
                # Counted, not timed: a hit takes a few microseconds here, and timing it would
                # cost a good share of that.
                self.metrics.requests[labels] += 1
                if self.log is not None:
                    seconds = time.perf_counter() - started
                    self.log.record(scope, labels[1], status, seconds, request_id)
                return
        sent_id = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = self.request_id(sent_id)
        started = time.perf_counter()
        recorder = Recorder(send, request_id)
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
            route, status = route_template(scope), recorder.status
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route, status, elapsed)
            if self.log is not None:
                self.log.record(scope, route, status, elapsed, request_id)
