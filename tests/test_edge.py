"""The edge layers: the response cache is exactly as correct as the app, and every request
is observed (request id, metrics by route template, one access-log line) and can be limited."""

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.edge.cache import ResponseCache
from app.main import create_app
from app.settings import Settings

PER_EXCHANGE = {"date", "x-request-id"}
REQUESTS = [
    ("GET", "/dialogues/6", {}),
    ("GET", "/dialogues/6", {"Accept-Encoding": "gzip"}),
    ("HEAD", "/dialogues/6", {"Accept-Encoding": "gzip"}),
    ("GET", "/commitments?area=digital", {}),
    ("GET", "/commitments?area=digital", {"Accept": "text/csv"}),
    ("GET", "/commitments?area=digital", {"Origin": "https://example.org"}),
    ("GET", "/commitments?area=digital&limit=1", {"Accept-Encoding": "gzip, br"}),
    ("GET", "/dialogues/99", {}),
    ("GET", "/commitments?limit=0", {}),
    ("GET", "/dialogues/6", {"Accept": "application/xml"}),
    ("GET", "/sources/mfa-cn-2025-03-22", {"Accept": "text/html"}),
    ("GET", "/search?q=RCEP", {}),
    ("GET", "/export/dataset.zip", {}),
]


@pytest.fixture(scope="module")
def uncached(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"cache_bytes": 0, "access_log": False})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def cached(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"cache_bytes": 8 * 2**20, "access_log": False})
    with TestClient(create_app(settings)) as client:
        yield client


def comparable(response) -> tuple[int, bytes, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in PER_EXCHANGE)
    return response.status_code, response.content, headers


@pytest.mark.parametrize(("method", "url", "headers"), REQUESTS)
def test_cached_and_uncached_answers_are_the_same_bytes(
    uncached: TestClient, cached: TestClient, method: str, url: str, headers: dict[str, str]
) -> None:
    expected = comparable(uncached.request(method, url, headers=headers))
    for _ in range(3):  # a miss, then hits
        assert comparable(cached.request(method, url, headers=headers)) == expected


def test_a_cache_hit_answers_if_none_match_with_304(cached: TestClient) -> None:
    etag = cached.get("/dialogues/5").headers["etag"]
    assert cached.get("/dialogues/5", headers={"If-None-Match": etag}).status_code == 304
    assert cached.get("/dialogues/5", headers={"If-None-Match": '"other"'}).status_code == 200


def metric(client: TestClient, sample: str) -> float:
    """The value of one sample in /metrics (0 if it is not there yet)."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def test_hits_are_counted_and_per_request_headers_are_fresh(cached: TestClient) -> None:
    requests = 'http_requests_total{method="GET",route="/indicators",status="200"}'
    timed = 'http_request_duration_seconds_count{method="GET",route="/indicators"}'
    hits = 'response_cache_lookups_total{result="hit"}'
    before = [metric(cached, name) for name in (requests, timed, hits)]
    url = "/indicators?limit=3&offset=1"  # a URL no other test asks for: the first is a miss
    first = cached.get(url, headers={"X-Request-ID": "first-request"})
    second = cached.get(url, headers={"X-Request-ID": "second-request"})
    assert first.headers["x-request-id"] == "first-request"
    assert second.headers["x-request-id"] == "second-request"
    after = [metric(cached, name) for name in (requests, timed, hits)]
    # both requests counted; the one rendered below the cache timed; the second one a hit
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 1]


def test_a_hit_echoes_a_sound_request_id_and_replaces_any_other(cached: TestClient) -> None:
    url = "/indicators?limit=2&offset=2"  # a URL no other test asks for: the first is a miss
    cached.get(url)
    hits = 'response_cache_lookups_total{result="hit"}'
    before = metric(cached, hits)
    sound = cached.get(url, headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
    forged = cached.get(url, headers={"X-Request-ID": "bad id\twith spaces"})
    made = [forged.headers["x-request-id"], cached.get(url).headers["x-request-id"]]
    assert metric(cached, hits) - before == 3
    assert sound == "abc-123"
    assert "bad id" not in made[0] and made[0] and made[1] and made[0] != made[1]


def test_the_cache_stays_within_its_budget(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"cache_bytes": 60_000, "access_log": False})
    app = create_app(settings)
    with TestClient(app) as client:
        for n in range(1, 7):
            client.get(f"/dialogues/{n}")
        client.get("/commitments?limit=100")
        gauges = {
            line.split()[0]: float(line.split()[1])
            for line in client.get("/metrics").text.splitlines()
            if line.startswith("response_cache_")
        }
        assert 0 < gauges["response_cache_bytes"] <= 60_000
        assert 0 < gauges["response_cache_entries"] < 8
        assert gauges["response_cache_bytes"] == app.cache.size  # type: ignore[union-attr]


def test_eviction_spares_an_entry_hit_since_it_was_last_passed_over() -> None:
    """The cache layer on its own, over an app whose responses all weigh the same."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        headers = [(b"etag", b'"%s"' % scope["path"].encode()), (b"x-dataset-version", b"1")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * 1000})

    class Clock:
        value = 1

    async def sent(cache: ResponseCache, path: str) -> None:
        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}

        async def send(message: object) -> None:
            pass

        await cache(scope, lambda: None, send)  # type: ignore[arg-type]

    cache = ResponseCache(app, Clock(), budget_bytes=10**6, vary_origin=False)
    asyncio.run(sent(cache, "/a"))
    cache.budget = 4 * cache.size  # room for four
    for path in ("/b", "/c", "/d"):
        asyncio.run(sent(cache, path))
    for entry in cache.entries.values():
        entry.used = False  # as if eviction had passed them all over
    asyncio.run(sent(cache, "/a"))  # a hit: /a is the oldest, but was just used
    asyncio.run(sent(cache, "/e"))  # over budget: one entry must go
    held = {key[1] for key in cache.entries}
    assert held == {"/a", "/c", "/d", "/e"}
    assert cache.lookups() == {"hit": 1, "miss": 5}


# Observability


def test_request_ids_are_echoed_or_made(client: TestClient) -> None:
    made = client.get("/health").headers["x-request-id"]
    assert made and made != client.get("/health").headers["x-request-id"]
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    forged = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert forged.headers["x-request-id"] != "bad id\twith spaces"


def test_metrics_count_by_route_template(client: TestClient) -> None:
    client.get("/dialogues/6")
    client.get("/dialogues/5")
    client.get("/no/such/path/123")
    metrics = client.get("/metrics")
    assert metrics.headers["cache-control"] == "no-store"
    text = metrics.text
    assert 'route="/dialogues/{dialogue}"' in text
    assert 'route="/dialogues/6"' not in text and "/no/such/path" not in text
    assert 'route="unmatched"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert 'dataset_info{version="1"} 1.0' in text


def test_one_json_access_log_line_per_request(
    app_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = app_settings.model_copy(update={"log_format": "json", "access_log": True})
    with TestClient(create_app(settings)) as client:
        client.get("/dialogues/6", headers={"X-Request-ID": "log-me"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    (entry,) = [line for line in lines if line.get("request_id") == "log-me"]
    assert entry["method"] == "GET" and entry["path"] == "/dialogues/6" and entry["status"] == 200
    assert entry["route"] == "/dialogues/{dialogue}" and entry["duration_ms"] >= 0


def test_the_rate_limit_answers_429_with_retry_after(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"rate_limit_per_minute": 3, "access_log": False})
    with TestClient(create_app(settings)) as client:
        statuses = [client.get("/areas").status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        limited = client.get("/areas")
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["status"] == 429
        assert client.get("/health").status_code == 200  # operators' probes are never limited


def test_cache_hits_behind_a_rate_limit_are_limited_and_the_same_bytes(
    app_settings: Settings, uncached: TestClient
) -> None:
    """With a rate limit, hits come through it (not answered before it, as they are without)."""
    update = {"rate_limit_per_minute": 3, "cache_bytes": 2**20, "access_log": False}
    with TestClient(create_app(app_settings.model_copy(update=update))) as client:
        answers = [client.get("/areas", headers={"X-Request-ID": f"r{n}"}) for n in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        expected = comparable(uncached.get("/areas"))
        for n, answer in enumerate(answers[:3]):
            assert comparable(answer) == expected
            assert answer.headers.get_list("x-request-id") == [f"r{n}"]
        # the hits are counted under their route, like the miss before them
        routes = 'http_requests_total{method="GET",route="/areas",status="200"}'
        assert metric(client, routes) == 3


def test_bad_configuration_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import ConfigurationError, load_settings

    monkeypatch.setenv("DB_TIMEOUT_SECONDS", "-3")
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    message = str(refused.value)
    assert "DB_TIMEOUT_SECONDS" in message and "DATABASE_URL" in message
