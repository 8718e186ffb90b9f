"""`create_app()`: settings, database, routers, docs and the edge layers in one place."""

import base64
import contextlib
import gc
import hashlib
import re
import threading
from collections.abc import AsyncIterator
from typing import Any

from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import SQLAlchemyError

from app import __version__, errors
from app.api import (
    changes,
    commitments,
    dataset,
    dialogues,
    health,
    indicators,
    people,
    search,
    series,
    sources,
    statements,
    vocabulary,
)
from app.api.fast import Shortcut
from app.db import make_engine
from app.edge.cache import ResponseCache
from app.edge.guard import Guard
from app.edge.observe import AccessLog, Metrics, Observe
from app.edge.ratelimit import RateLimit
from app.edge.representations import Representations
from app.read import Reader
from app.seed.load import alembic_config
from app.settings import Settings, get_settings

DESCRIPTION = """
Verified facts about diplomatic dialogues between two countries: the dialogues, who took
part and in what role, the commitments and proposals made, and the economic figures quoted.

Every fact carries its **evidence**: the exact words of its source with their place in the
text (Unicode code point offsets, end exclusive), checked when the data was loaded. A fact
that cannot be traced to its source is not served. Follow an evidence `link`
(`/sources/{id}#char=start,end`, RFC 5147) to read the span in its document.

Every list pages with `limit` and `offset` or the `cursor` of its `next` link (RFC 8288
`Link` headers too), and answers as CSV with `Accept: text/csv` or `format=csv`. Responses
carry a strong `ETag` (send `If-None-Match` for a 304) and `X-Dataset-Version`. Errors are
RFC 9457 problem details (`application/problem+json`).
"""

TAGS = [
    {
        "name": "dialogues",
        "description": "Meetings of a dialogue series, with every fact they produced.",
    },
    {"name": "commitments", "description": "Proposals by one side and outcomes agreed by both."},
    {"name": "indicators", "description": "Economic figures as the sources state them."},
    {"name": "people", "description": "Who took part, in what role, and what they said."},
    {"name": "statements", "description": "Assessments that commit no one."},
    {"name": "series", "description": "Recurring dialogues and their editions in order."},
    {"name": "vocabulary", "description": "Areas, named entities and countries used to filter."},
    {"name": "sources", "description": "The documents behind the facts, and every span cited."},
    {"name": "search", "description": "Ranked full-text search over facts and source text."},
    {"name": "dataset", "description": "The dataset's version, counts, checksums and downloads."},
    {"name": "health", "description": "Liveness and readiness for operators."},
]
STATIC = "/static-offline-docs"
DATA_ERRORS = errors.documented(400, 404, 405, 406, 414, 422, 429, 500, 503)
ROUTERS = (
    dialogues,
    commitments,
    indicators,
    people,
    statements,
    series,
    vocabulary,
    sources,
    search,
    dataset,
    changes,
)


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def script_hashes(html: str) -> str:
    """CSP hashes of a page's inline scripts, so the docs run offline under a strict policy."""
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes)


def docs_page(app: FastAPI, path: str, html: str) -> bytes:
    app.add_api_route(path, lambda: HTMLResponse(html), include_in_schema=False)
    return (
        f"default-src 'none'; script-src 'self' {script_hashes(html)}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; frame-ancestors 'none'"
    ).encode()


def add_docs(app: FastAPI) -> dict[str, bytes]:
    swagger = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{app.title} - docs",
        swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC}/favicon.png",
    ).body
    redoc = get_redoc_html(
        openapi_url="/openapi.json",
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{STATIC}/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC}/favicon.png",
        with_google_fonts=False,
    ).body
    return {
        "/docs": docs_page(app, "/docs", bytes(swagger).decode()),
        "/redoc": docs_page(app, "/redoc", bytes(redoc).decode()),
    }


def problem_media_types(app: FastAPI) -> None:
    """Document error responses with the media type really sent: application/problem+json."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            for path in schema["paths"].values():
                for operation in path.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status[0] in "45" and "application/json" in content:
                            content[errors.PROBLEM] = content.pop("application/json")
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class Edge(Observe):
    """The ASGI app served: the API wrapped in its edge layers (pure ASGI, outside routing).

    Outermost first: request id, log and metrics (this layer itself, which also answers
    response cache hits); the rate limit; the response cache; method, URL, CORS and security
    headers; ETag, 304, gzip and HEAD; the shortcut to the read routes; then FastAPI."""

    def __init__(self, api: FastAPI, settings: Settings, docs_csp: dict[str, bytes]):
        self.api = api
        self.state = api.state
        clock = api.state.reader.clock
        metrics = api.state.metrics
        read_routes = Shortcut(api, [module.router for module in ROUTERS])
        asgi: Any = Representations(read_routes, passthrough=(STATIC,))
        asgi = Guard(asgi, clock.get, settings.cors_origins, docs_csp)
        self.cache = None
        if settings.cache_bytes:
            open_cors = "*" in settings.cors_origins
            asgi = self.cache = ResponseCache(asgi, clock, settings.cache_bytes, not open_cors)
            metrics.cache = self.cache
        in_reach = self.cache  # hits are answered here, unless a rate limit comes first
        if settings.rate_limit_per_minute:
            limited = ("/health", "/ready", "/metrics")
            asgi = RateLimit(asgi, settings.rate_limit_per_minute, exempt=limited)
            in_reach = None
        super().__init__(asgi, metrics, api.state.access_log, in_reach)


def poll_versions(state: Any, every: float, stop: threading.Event) -> None:
    """Notice a newly loaded dataset within `every` seconds, even with no traffic."""
    while not stop.wait(every):
        with contextlib.suppress(SQLAlchemyError):
            state.metrics.serving(state.reader.poll())


def build_api(settings: Settings) -> tuple[FastAPI, dict[str, bytes]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        with contextlib.suppress(SQLAlchemyError):  # know the version before the first request
            app.state.reader.poll()
        poller = threading.Thread(
            target=poll_versions, args=(app.state, settings.version_poll_seconds, stop), daemon=True
        )
        poller.start()
        if app.state.access_log is not None:
            app.state.access_log.start()
        # What startup built (routes, schemas, the OpenAPI document) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it all.
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            poller.join(timeout=5)
            if app.state.access_log is not None:
                app.state.access_log.stop()
            app.state.reader.close()
            engine.dispose()

    api = FastAPIOffline(
        title="Bilateral Facts API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        docs_url=None,
        redoc_url=None,
        static_url=STATIC,
        lifespan=lifespan,
        # The edge (app/edge/observe.py) keeps the metrics and request ids; FastAPI's own
        # OpenTelemetry hooks would look up the environment on every request to find nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    timeout = settings.db_timeout_seconds
    engine = make_engine(
        settings.read_database_url or settings.database_url,
        timeout,
        settings.pool_size,
        settings.max_overflow,
        read_only=True,
    )
    api.state.engine = engine
    threads = settings.pool_size + settings.max_overflow
    api.state.reader = Reader(engine, deadline=timeout + 1, threads=threads)
    api.state.metrics = Metrics()
    api.state.head_revision = head_revision()
    api.state.access_log = AccessLog(settings.log_format) if settings.access_log else None
    errors.install(api)
    for module in ROUTERS:
        api.include_router(module.router, responses=DATA_ERRORS)
    api.include_router(health.router)
    problem_media_types(api)
    return api, add_docs(api)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def create_app(settings: Settings | None = None) -> Edge:
    settings = settings or get_settings()
    api, docs_csp = build_api(settings)
    return Edge(api, settings, docs_csp)
