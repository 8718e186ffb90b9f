"""The read routes' shorter way in (app/api/fast.py) answers exactly as FastAPI's own would:
the same status, headers and bytes, for valid requests, refused ones, errors the endpoints
raise, and paths that are not read routes at all."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api import fast
from app.main import create_app
from app.read import Snapshot
from app.settings import Settings

URLS = [
    "/dialogues/6",
    "/dialogues/china-japan-high-level-economic-dialogue-6",
    "/dialogues?sort=-date&limit=2",
    "/dialogues?year=2025",
    "/dialogues?date_from=2010-01-01&date_to=2019-12-31&country=jp",
    "/commitments?area=digital",
    "/commitments?area=ai&area=health&limit=100",
    "/commitments?mentions=rcep",
    "/commitments?country=JP&kind=joint",
    "/commitments?q=supply%20chain&sort=-point",
    "/commitments?format=csv&limit=5",
    "/commitments?limit=3&offset=3&sort=dialogue",
    "/commitments/11",
    "/indicators?unit=USD&sort=-value",
    "/people?country=CN",
    "/statements?dialogue=6",
    "/series",
    "/areas?limit=5",
    "/entities?kind=agreement",
    "/countries",
    "/sources",
    "/search?q=rcep&kind=commitment",
    "/changes?since=0&limit=3",
    "/meta",
    # refused: FastAPI's own handler answers these
    "/commitments?limit=0",
    "/commitments?limit=abc&area=digital",
    "/commitments?sort=nonsense",
    "/commitments?mentions=Not%20A%20Slug",
    "/commitments?area=no-such-area",
    "/commitments/0",
    "/commitments/x",
    "/commitments/999999",
    "/people/nobody",
    "/dialogues?date_from=2025-13-01",
    "/dialogues?year=1800",
    "/search",
    "/changes",
    # not a read route: FastAPI answers (a redirect to the path without the slash, a 404)
    "/commitments/",
    "/dialogues/6/commitments",
    "/nowhere",
    "/",
]
PER_REQUEST = {"x-request-id", "date"}


@pytest.fixture()
def taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Records, per request, whether the shorter way took it."""
    seen: list[bool] = []
    values = fast.Parser.values

    def spy(self: fast.Parser, request: object) -> object:
        result = values(self, request)  # type: ignore[arg-type]
        seen.append(result is not None)
        return result

    monkeypatch.setattr(fast.Parser, "values", spy)
    yield seen


def answer(client: TestClient, url: str) -> tuple[int, dict[str, str], bytes]:
    response = client.get(url)
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    return response.status_code, headers, response.content


def test_every_read_route_takes_the_shorter_way_when_its_parameters_are_valid(
    client: TestClient, taken: list[bool]
) -> None:
    for url in ["/dialogues/6", "/commitments?area=digital&sort=-id", "/search?q=trade", "/meta"]:
        taken.clear()
        assert client.get(url).status_code == 200
        assert taken == [True], url
    taken.clear()
    assert client.get("/commitments?limit=0").status_code == 422
    assert taken == [False]


def test_the_shorter_way_answers_byte_for_byte_as_fastapi_does(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = {url: answer(client, url) for url in URLS}
    monkeypatch.setattr(fast.Parser, "values", lambda self, request: None)  # FastAPI's way only
    for url in URLS:
        assert answer(client, url) == short[url], url
    assert {status for status, _, _ in short.values()} >= {200, 404, 422}


def test_an_unexpected_error_is_a_500_problem_without_internals(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail /srv/secret.py")

    monkeypatch.setattr(Snapshot, "page", broken)
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as client:
        response = client.get("/commitments?area=digital")
        assert client.get("/dialogues/6").status_code == 200  # the others still answer
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
    assert "secret" not in response.text and "Traceback" not in response.text
