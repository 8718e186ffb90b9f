"""The contract a client relies on: problem errors, ETags, gzip, links, CSV, search, export."""

import base64
import csv
import gzip
import io
import json
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.api import dataset, search

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


# Errors, one shape for every status


def test_other_methods_get_405_with_allow(client: TestClient) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, "/dialogues/6")
        body = assert_problem(response, 405)
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
        assert method in body["detail"]


def test_an_unacceptable_media_type_gets_406(client: TestClient) -> None:
    body = assert_problem(client.get("/dialogues/6", headers={"Accept": "application/xml"}), 406)
    assert "application/json" in body["detail"]
    ok = client.get("/dialogues/6", headers={"Accept": "application/xml, application/json;q=0.5"})
    assert ok.status_code == 200


def test_an_overlong_url_gets_414_and_too_many_parameters_400(client: TestClient) -> None:
    assert_problem(client.get("/commitments?q=" + "a" * 3000), 414)
    many = "&".join(f"area=digital{n}" for n in range(100))
    assert_problem(client.get(f"/commitments?{many}"), 400)


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_bad_cursor_gets_400_naming_it(client: TestClient) -> None:
    bad = [
        "not-a-cursor!",
        cursor_of({"x": 1}),  # not the shape this API makes
        cursor_of([["seven"], 1]),  # a text value where the id is a number
        cursor_of([[1, 2, 3], 1]),  # too many values for this sort
        cursor_of([[7], -4]),  # a position before the start
        cursor_of([[2**70], 1]),  # past any id
    ]
    for cursor in bad:
        body = assert_problem(client.get(f"/commitments?cursor={cursor}"), 400)
        assert body["errors"][0]["parameter"] == "cursor"


def test_validation_errors_name_the_parameter(client: TestClient) -> None:
    body = assert_problem(client.get("/commitments?limit=500"), 422)
    assert body["errors"] == [
        {"parameter": "limit", "in": "query", "reason": body["errors"][0]["reason"]}
    ]
    assert "100" in body["errors"][0]["reason"]


# Caching


def test_etag_and_304(client: TestClient) -> None:
    first = client.get("/dialogues/6")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age" in first.headers["cache-control"]
    again = client.get("/dialogues/6", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    for header in ("etag", "cache-control", "vary", "x-dataset-version"):
        assert again.headers[header] == first.headers[header]
    other = client.get("/dialogues/5", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


def test_the_etag_is_a_hash_of_body_and_media_type(client: TestClient) -> None:
    as_json = client.get("/commitments?area=digital")
    as_csv = client.get("/commitments?area=digital", headers={"Accept": "text/csv"})
    assert as_json.headers["etag"] != as_csv.headers["etag"]
    assert client.get("/commitments?area=digital").headers["etag"] == as_json.headers["etag"]


def test_health_ready_are_not_stored(client: TestClient) -> None:
    for url in ("/health", "/ready"):
        response = client.get(url)
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers


def test_every_response_carries_the_dataset_version(client: TestClient) -> None:
    for url in ("/dialogues/6", "/commitments", "/health", "/nope", "/commitments?limit=0"):
        assert client.get(url).headers["x-dataset-version"] == "1"


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    get = client.get("/commitments?area=digital")
    head = client.head("/commitments?area=digital")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]


# Compression


def test_gzip_when_accepted(client: TestClient) -> None:
    plain = client.get("/dialogues/6", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/dialogues/6", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.json() == plain.json()  # the client decodes it
    assert int(zipped.headers["content-length"]) < int(plain.headers["content-length"])
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = client.get(
        "/dialogues/6", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    assert again.status_code == 304


def test_gzip_bytes_are_the_same_every_time(client: TestClient) -> None:
    raw = [
        client.get("/dialogues/6", headers={"Accept-Encoding": "gzip"}).headers["etag"]
        for _ in range(2)
    ]
    assert raw[0] == raw[1]
    body = gzip.compress(b"x")  # gzip is available; the header check above is the contract
    assert body


# Paging


def links(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = {}
    for part in response.headers["link"].split(", "):
        url, rel = part.split("; ")
        out[rel.removeprefix('rel="').rstrip('"')] = url.strip("<>")
    return out


@pytest.mark.parametrize("sort", ["id", "-id", "point", "-point", "dialogue"])
def test_following_next_walks_the_list_once(client: TestClient, sort: str) -> None:
    whole = client.get(f"/commitments?limit=100&sort={sort}").json()
    seen = []
    url = f"/commitments?limit=5&sort={sort}"
    for _ in range(50):
        response = client.get(url)
        page = response.json()
        assert page["total"] == whole["total"]
        assert response.headers["x-total-count"] == str(whole["total"])
        seen += [c["id"] for c in page["items"]]
        rel = links(response)
        assert "first" in rel and "last" in rel
        if "next" not in rel:
            assert page["next"] is None
            break
        assert page["next"] == rel["next"]
        url = rel["next"]
    assert seen == [c["id"] for c in whole["items"]]


def test_links_keep_the_filters_and_offer_prev_and_last(client: TestClient) -> None:
    response = client.get("/commitments?area=green&area=health&limit=1&offset=1")
    rel = links(response)
    assert set(rel) == {"first", "prev", "next", "last"}
    query = parse_qs(urlsplit(rel["prev"]).query)
    assert query["area"] == ["green", "health"] and query["offset"] == ["0"]
    total = response.json()["total"]
    assert parse_qs(urlsplit(rel["last"]).query)["offset"] == [str(total - 1)]


def test_dialogues_walk_by_date_cursor(client: TestClient) -> None:
    seen = []
    url = "/dialogues?limit=2&sort=-date"
    while url:
        page = client.get(url).json()
        seen += [d["date"] for d in page["items"]]
        url = page["next"]
    assert seen == sorted(seen, reverse=True) and len(seen) == 6


# CSV


def test_every_list_answers_as_csv(client: TestClient) -> None:
    for url in ("/dialogues", "/commitments", "/indicators", "/people", "/areas", "/entities",
                "/countries", "/sources", "/series", "/statements"):  # fmt: skip
        as_json = client.get(url + "?limit=100").json()
        response = client.get(url + "?limit=100", headers={"Accept": "text/csv"})
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == len(as_json["items"]), url
        by_format = client.get(url + "?limit=100&format=csv")
        assert by_format.content == response.content


def test_commitments_csv_has_a_header_and_flat_values(client: TestClient) -> None:
    text = client.get("/commitments?area=digital&format=csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"id", "statement", "kind", "areas", "evidence_quotes", "evidence_links"} <= set(rows[0])
    assert all("digital" in row["areas"].split("; ") for row in rows)


# Search


def test_search_finds_the_supply_chain_proposal_first(client: TestClient) -> None:
    body = client.get("/search", params={"q": "supply chains"}).json()
    assert body["total"] >= 1
    top = body["items"][0]
    assert top["kind"] == "commitment" and "supply chains" in top["title"]
    assert "<mark>" in top["snippet"]
    assert client.get(top["link"]).status_code == 200


def test_search_finds_the_regional_point_for_rcep(client: TestClient) -> None:
    hits = client.get("/search", params={"q": "RCEP"}).json()["items"]
    commitments = [h for h in hits if h["kind"] == "commitment"]
    assert commitments and "Regional Comprehensive Economic Partnership" in commitments[0]["title"]
    assert any(h["kind"] == "source" and "#char=" in h["link"] for h in hits)


@pytest.mark.parametrize("kind", [None, "commitment"])
def test_a_search_matching_more_than_it_ranks_says_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, kind: str | None
) -> None:
    asked = {"q": "trade", "limit": 100, **({"kind": kind} if kind else {})}
    everything = client.get("/search", params=asked).json()
    assert everything["total_relation"] == "eq"
    assert everything["total"] == len(everything["items"]) > 3
    monkeypatch.setattr(search, "RANKED", 3)  # as if "trade" were in very many entries
    capped = client.get("/search", params=asked).json()
    assert (capped["total"], capped["total_relation"], len(capped["items"])) == (3, "gte", 3)
    assert all(hit in everything["items"] for hit in capped["items"])


def test_search_by_kind_and_nonsense(client: TestClient) -> None:
    hits = client.get("/search", params={"q": "billion dollars", "kind": "indicator"}).json()
    assert hits["total"] == 2
    assert hits["items"] and all(h["kind"] == "indicator" for h in hits["items"])
    none = client.get("/search", params={"q": '"AND OR NOT * ( zzzzqqq'}).json()
    assert none["total"] == 0 and none["items"] == []
    assert_problem(client.get("/search?q="), 422)


# Export and metadata


def test_meta_describes_the_dataset(client: TestClient) -> None:
    meta = client.get("/meta").json()
    assert meta["dataset_version"] == 1
    assert meta["counts"]["commitment"] == client.get("/commitments").json()["total"]
    readout = next(s for s in meta["sources"] if s["id"] == "mfa-cn-2025-03-22")
    assert readout["sha256"] == "51985a817e586b8ac63ba0561f37c20f2820069d4612a724506a1d15daeef162"
    assert "dataset version 1" in meta["citation"]


def test_meta_lists_its_first_sources_and_counts_them_all(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = client.get("/meta").json()
    sources = client.get("/sources", params={"limit": 100}).json()
    assert everything["sources_total"] == sources["total"] == len(everything["sources"]) > 1
    assert "more sources" not in everything["citation"]
    monkeypatch.setattr(dataset, "META_SOURCES", 1)  # as if the dataset cited many more
    meta = client.get("/meta").json()
    assert [s["id"] for s in meta["sources"]] == [sources["items"][0]["id"]]
    assert meta["sources_total"] == sources["total"]
    assert f"and {sources['total'] - 1} more sources (see /sources)" in meta["citation"]


def test_the_whole_dataset_as_json(client: TestClient) -> None:
    response = client.get("/export/dataset.json")
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["meta"]["dataset_version"] == 1
    assert len(data["commitments"]) == client.get("/commitments").json()["total"]
    assert [d["id"] for d in data["dialogues"]] == [1, 2, 3, 4, 5, 6]
    assert data["sources"][0]["evidence"] is not None


def test_the_whole_dataset_as_a_zip_of_csv(client: TestClient) -> None:
    response = client.get("/export/dataset.zip")
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"meta.json", "CITATION.txt", "commitments.csv", "indicators.csv"} <= names
    rows = list(csv.DictReader(io.StringIO(archive.read("commitments.csv").decode())))
    assert len(rows) == client.get("/commitments").json()["total"]
    assert json.loads(archive.read("meta.json"))["dataset_version"] == 1
    assert client.get("/export/dataset.zip").headers["etag"] == response.headers["etag"]


# Read-only, CORS, security headers


def test_cors_allows_get_from_anywhere(client: TestClient) -> None:
    response = client.get("/dialogues/6", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        "/dialogues/6",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "If-None-Match"


def test_security_headers_and_a_strict_csp_on_the_docs(client: TestClient) -> None:
    data = client.get("/dialogues/6")
    assert data.headers["x-content-type-options"] == "nosniff"
    assert data.headers["content-security-policy"].startswith("default-src 'none'")
    docs = client.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "cdn" not in docs.text.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


# Docs


def test_every_operation_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert all(tag.get("description") for tag in spec["tags"])
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op.get("summary") and op.get("description"), (method, path)
            for param in op.get("parameters", []):
                assert param.get("description") or param["name"] in ("q",), (path, param["name"])
            for status, response in op["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == [PROBLEM], (path, status)
    assert len(ids) == len(set(ids))
    assert "dialogues-get_dialogue" in ids


def test_totals_past_the_cap_are_a_marked_lower_bound(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.read

    # A whole list, or one filter, has its total counted at load time: always exact.
    monkeypatch.setattr(app.read, "TOTAL_CAP", 5)
    assert client.get("/commitments?kind=proposal").json()["total_relation"] == "eq"
    # Two filters are counted per request, up to the cap.
    combined = "/commitments?kind=proposal&country=CN"
    first = client.get(combined + "&limit=4")
    body = first.json()
    assert (body["total"], body["total_relation"]) == (5, "gte")
    assert "last" not in links(first)
    seen, url = [], combined + "&limit=4"
    while url:
        page = client.get(url).json()
        seen += [c["id"] for c in page["items"]]
        url = page["next"]
    monkeypatch.undo()
    whole = client.get(combined + "&limit=100").json()
    assert whole["total_relation"] == "eq"
    assert whole["total"] == client.get("/commitments?kind=proposal").json()["total"] > 5
    assert seen == [c["id"] for c in whole["items"]]  # the walk still reaches the end


def test_a_nul_character_is_refused_before_the_database(client: TestClient) -> None:
    body = assert_problem(client.get("/commitments?area=k%00x"), 422)
    assert body["errors"][0]["parameter"] == "area"
    assert assert_problem(client.get("/search?q=rc%00ep"), 422)["errors"][0]["parameter"] == "q"
    assert_problem(client.get("/people/wang%00yi"), 404)
