"""`create_app()`: settings, database, routers and error handlers in one place."""

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from app import __version__, errors
from app.api import (
    commitments,
    dialogues,
    health,
    indicators,
    people,
    series,
    sources,
    statements,
    vocabulary,
)
from app.db import make_engine, snapshot_engine
from app.read import Reader
from app.settings import Settings, get_settings

DESCRIPTION = """
Verified facts about diplomatic dialogues between two countries: the dialogues, who took
part and in what role, the commitments and proposals made, and the economic figures quoted.

Every fact carries its **evidence**: the exact words of its source with their place in the
text (Unicode code point offsets, end exclusive), checked when the data was loaded. A fact
that cannot be traced to its source is not served. Follow an evidence `link`
(`/sources/{id}#char=start,end`, RFC 5147) to read the span in its document.
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
    {"name": "health", "description": "Liveness and readiness for operators."},
]


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPIOffline(
        title="Bilateral Facts API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
    )
    engine = make_engine(settings.database_url, settings.db_timeout_seconds, settings.pool_size)
    app.state.engine = engine
    app.state.reader = Reader(snapshot_engine(engine))
    errors.install(app)
    for module in (
        dialogues,
        commitments,
        indicators,
        people,
        statements,
        series,
        vocabulary,
        sources,
        health,
    ):
        app.include_router(module.router)
    return app
