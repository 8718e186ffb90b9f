"""Schemathesis against the app in-process: every check, valid and invalid data, all phases,
and the stateful phase; configured and seeded by schemathesis.toml at the top level."""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import ROOT, Settings

CONFIG = schemathesis.config.SchemathesisConfig.from_path(str(ROOT / "schemathesis.toml"))


@pytest.fixture(scope="session")
def fuzzed_app(app_settings: Settings) -> Iterator[object]:
    app = create_app(app_settings.model_copy(update={"access_log": False}))
    with TestClient(app):  # runs the app's lifespan around the whole run
        yield app


@pytest.fixture(scope="session")
def api_schema(fuzzed_app: object) -> object:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_stateful_sequences_conform(api_schema: schemathesis.schemas.BaseSchema) -> None:
    api_schema.as_state_machine().run()  # type: ignore[attr-defined]
