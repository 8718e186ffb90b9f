"""The change feed: each load that changes something is a version, and clients can sync."""

import copy
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.db import make_engine
from app.main import create_app
from app.seed.load import load
from app.settings import Settings
from tests.conftest import SEED_DIR
from tests.test_seed_loader import READOUT, by_id, copy_seed, edit


def change_the_seed(data: dict[str, Any]) -> None:
    by_id(data["commitments"], 13)["statement"] = "The two sides should foster the silver economy."
    data["commitments"] = [c for c in data["commitments"] if c["id"] != 36]
    added = copy.deepcopy(by_id(data["statements"], 1))
    added["id"] = 99
    data["statements"].append(added)


def feed(client: TestClient, since: int, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/changes", params={"since": since, "limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_the_feed_lists_exactly_what_a_load_changed(fresh_url: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_url)
    assert load(engine, SEED_DIR).version == 1
    app = create_app(Settings(database_url=fresh_url, cache_bytes=0, access_log=False))
    with TestClient(app) as client:
        before = {
            url: client.get(url).headers["etag"] for url in ("/commitments/1", "/commitments/13")
        }
        total_v1 = client.get("/meta").json()["counts"]
        folder = copy_seed(tmp_path)
        edit(folder, READOUT, change_the_seed)
        assert load(engine, folder).version == 2
        assert not load(engine, folder).changed  # the same seed again records nothing

        changes = feed(client, since=1)
        assert [(c["kind"], c["id"], c["change"], c["version"]) for c in changes] == [
            ("commitment", "13", "changed", 2),
            ("commitment", "36", "removed", 2),
            ("statement", "99", "added", 2),
        ]
        assert changes[0]["link"] == "/commitments/13" and changes[1]["link"] is None
        assert feed(client, since=2) == []
        assert feed(client, since=1, kind="statement") == [changes[2]]

        everything = feed(client, since=0, kind="commitment")
        assert len(everything) == total_v1["commitment"] - 1
        assert {c["change"] for c in everything} == {"added"}

        changed = client.get("/commitments/13").json()
        assert (changed["first_seen"], changed["last_changed"]) == (1, 2)
        same = client.get("/commitments/1").json()
        assert (same["first_seen"], same["last_changed"]) == (1, 1)
        assert client.get("/commitments/1").headers["etag"] == before["/commitments/1"]
        assert client.get("/commitments/13").headers["etag"] != before["/commitments/13"]
        assert client.get("/commitments/36").status_code == 404

        versions = client.get("/meta").json()["versions"]
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[0]["counts"]["commitment"] == total_v1["commitment"] - 1
    engine.dispose()


def test_the_feed_pages_and_refuses_bad_input(client: TestClient) -> None:
    first = client.get("/changes?since=0&limit=10")
    body = first.json()
    assert body["total"] > 10 and len(body["items"]) == 10
    second = client.get(body["next"]).json()
    assert {c["id"] + c["kind"] for c in second["items"]}.isdisjoint(
        {c["id"] + c["kind"] for c in body["items"]}
    )
    assert client.get("/changes").status_code == 422  # since is required
    assert client.get("/changes?since=-1").status_code == 422
    assert client.get("/changes?since=0&cursor=abc").status_code == 400
