"""Fixtures: a fresh, uniquely named database on each backend, and a client on the loaded seed.

Every test that takes `client` or `fresh_url` runs on SQLite and, when TEST_DATABASE_URL
names a PostgreSQL server, on PostgreSQL too.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from app.db import make_engine
from app.main import create_app
from app.seed.load import load
from app.settings import ROOT, Settings

SEED_DIR = ROOT / "seed"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def pytest_report_header() -> str:
    return f"database backends: {', '.join(BACKENDS)}"


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A new empty database; PostgreSQL ones get a unique name and are dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'facts.sqlite3'}"
        return
    name = f"facts_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        engine = make_engine(url)
        load(engine, SEED_DIR)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def app_settings(seeded_url: str) -> Settings:
    """The app's settings for tests: no response cache, so each request reaches the
    database (tests/test_edge.py proves the cache answers the same bytes), and no access log."""
    return Settings(database_url=seeded_url, cache_bytes=0, access_log=False)


@pytest.fixture(scope="session")
def client(app_settings: Settings) -> Iterator[TestClient]:
    app = create_app(app_settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()
