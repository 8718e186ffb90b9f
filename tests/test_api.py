"""The read API as a user calls it: each endpoint, filter, sort and error."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

# The sixth dialogue, as the readout states it.


def test_dialogue_6_as_the_readout_states_it(client: TestClient) -> None:
    response = client.get("/dialogues/6")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    d = response.json()
    assert d["series"] == "china-japan-high-level-economic-dialogue"
    assert (d["edition"], d["date"], d["city"], d["host_country"]) == (
        6,
        "2025-03-22",
        "Tokyo",
        "JP",
    )
    assert sorted(d["countries"]) == ["CN", "JP"]
    assert d["departments_count"] == 15
    assert "of both countries" in d["departments_as_stated"]
    assert d["gap_as_stated"] == "after six years" and d["previous_id"] == 5
    chairs = {p["person"]["name"]: p for p in d["participations"] if p["role"] == "co-chair"}
    assert set(chairs) == {"Wang Yi", "Takeshi Iwaya"}
    assert "Foreign Minister" in chairs["Wang Yi"]["title"]
    assert "Political Bureau" in chairs["Wang Yi"]["title"]
    (lima,) = d["context_events"]
    assert lima["place"] == "Lima" and lima["date_as_stated"] == "at the end of last year"
    assert {p["name"] for p in lima["participants"]} == {"Xi Jinping", "Shigeru Ishiba"}
    assert len(d["indicators"]) == 3
    assert len(d["commitments"]) >= 30
    assert {c["point"] for c in d["commitments"]} >= {1, 2, 3, 4}
    assert d["planned_next"]["host_country"] == "CN"
    assert any(s["id"] == "mfa-cn-2025-03-22" for s in d["sources"])
    assert len(d["aims"]) == 6


def test_a_dialogue_by_slug_is_the_same_document(client: TestClient) -> None:
    by_id = client.get("/dialogues/6")
    by_slug = client.get("/dialogues/china-japan-high-level-economic-dialogue-6")
    assert by_slug.status_code == 200
    assert by_slug.content == by_id.content


@contextmanager
def counting_queries(client: TestClient) -> Iterator[list[str]]:
    reader = client.app.state.reader  # type: ignore[attr-defined]
    statements: list[str] = []
    reader.trace = statements.append
    try:
        yield statements
    finally:
        reader.trace = None


def test_a_dialogue_costs_a_fixed_number_of_queries(client: TestClient) -> None:
    with counting_queries(client) as big:
        client.get("/dialogues/6")  # 36 commitments, 3 indicators, 12 participations ...
    with counting_queries(client) as small:
        client.get("/dialogues/1")  # two co-chairs and nothing else
    assert len(big) == len(small) <= 3  # BEGIN (SQLite), version, document
    with counting_queries(client) as by_slug:
        client.get("/dialogues/china-japan-high-level-economic-dialogue-6")
    assert len(by_slug) == len(big) + 1


def test_lists_cost_a_fixed_number_of_queries(client: TestClient) -> None:
    with counting_queries(client) as one:
        client.get("/commitments?limit=1")
    with counting_queries(client) as many:
        client.get("/commitments?limit=100")
    assert len(one) == len(many) <= 5  # BEGIN (SQLite), version, total, keys, documents


# Commitments and their filters


def items(client: TestClient, url: str) -> list[dict]:  # type: ignore[type-arg]
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_commitments_about_the_digital_economy(client: TestClient) -> None:
    found = items(client, "/commitments?area=digital")
    assert found
    assert all("digital" in c["areas"] for c in found)
    assert any("digital economy" in c["statement"] for c in found)
    for c in found:
        assert any(e["role"] == "content" for e in c["evidence"])


def test_area_is_repeatable_and_means_any_of(client: TestClient) -> None:
    ai = {c["id"] for c in items(client, "/commitments?area=ai&limit=100")}
    health = {c["id"] for c in items(client, "/commitments?area=health&limit=100")}
    both = {c["id"] for c in items(client, "/commitments?area=ai&area=health&limit=100")}
    assert ai and health and both == ai | health


def test_country_matches_the_speakers_side_and_joint_ones_match_both(client: TestClient) -> None:
    jp = items(client, "/commitments?country=JP&limit=100")
    cn = items(client, "/commitments?country=cn&limit=100")
    assert jp and all(c["kind"] == "joint" for c in jp)
    assert {c["id"] for c in jp} < {c["id"] for c in cn}
    assert all(c["speaker_country"] == "CN" or c["kind"] == "joint" for c in cn)


def test_kind_mentions_dialogue_and_words(client: TestClient) -> None:
    joint = items(client, "/commitments?kind=joint")
    assert joint and all(c["kind"] == "joint" and c["speaker"] is None for c in joint)
    rcep = items(client, "/commitments?mentions=rcep")
    assert [c["entities"] for c in rcep] == [["rcep"]] or all("rcep" in c["entities"] for c in rcep)
    assert any("RCEP" in c["statement"] for c in rcep)
    assert items(client, "/commitments?dialogue=1") == []
    assert len(items(client, "/commitments?dialogue=6&limit=100")) >= 30
    supply = items(client, "/commitments?q=supply%20chains")
    assert len(supply) == 1 and "supply chains" in supply[0]["statement"]
    assert items(client, "/commitments?q=SILVER") == items(client, "/commitments?q=silver")
    assert items(client, "/commitments?q=100%25") == []


def test_commitment_by_id(client: TestClient) -> None:
    first = items(client, "/commitments?limit=1")[0]
    one = client.get(f"/commitments/{first['id']}")
    assert one.status_code == 200 and one.json() == first


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/commitments?sort=id", "id"),
        ("/commitments?sort=-id", "id"),
        ("/commitments?sort=point", "point"),
        ("/dialogues?sort=date", "date"),
        ("/dialogues?sort=-date", "date"),
        ("/dialogues?sort=-edition", "edition"),
        ("/people?sort=name", "name"),
        ("/indicators?sort=-value", "value"),
    ],
)
def test_sorting_is_stable_and_ties_break_by_id(client: TestClient, url: str, key: str) -> None:
    found = items(client, f"{url}&limit=100")
    assert len(found) > 1
    descending = "=-" in url
    values = [c[key] for c in found]
    present = [v for v in values if v is not None]
    assert values == present + [None] * (len(values) - len(present))  # missing values last
    assert present == sorted(present, reverse=descending)
    for before, after in itertools.pairwise(found):
        if before[key] == after[key]:
            assert (before["id"] > after["id"]) == descending


def test_paging_walks_every_row_once(client: TestClient) -> None:
    whole = client.get("/commitments?limit=100").json()
    seen = []
    for offset in range(0, whole["total"], 7):
        page = client.get(f"/commitments?limit=7&offset={offset}").json()
        assert page["total"] == whole["total"] and page["limit"] == 7 and page["offset"] == offset
        seen += [c["id"] for c in page["items"]]
    assert seen == [c["id"] for c in whole["items"]]


# Dialogues, series, people, indicators, vocabulary, sources


def test_dialogue_filters(client: TestClient) -> None:
    assert [d["edition"] for d in items(client, "/dialogues")] == [1, 2, 3, 4, 5, 6]
    assert [d["id"] for d in items(client, "/dialogues?year=2025")] == [6]
    assert [
        d["id"] for d in items(client, "/dialogues?date_from=2018-01-01&date_to=2019-12-31")
    ] == [4, 5]
    assert len(items(client, "/dialogues?country=JP")) == 6
    assert items(client, "/dialogues?country=US") == []
    assert len(items(client, "/dialogues?series=china-japan-high-level-economic-dialogue")) == 6
    assert items(client, "/dialogues?series=other") == []


def test_series_lists_its_editions_in_order(client: TestClient) -> None:
    (series,) = items(client, "/series")
    one = client.get(f"/series/{series['slug']}").json()
    assert [e["edition"] for e in one["editions"]] == [1, 2, 3, 4, 5, 6]
    assert "Japan-China High-Level Economic Dialogue" in one["aliases"]


def test_people_with_their_participations_and_statements(client: TestClient) -> None:
    wang = client.get("/people/wang-yi").json()
    assert {p["dialogue_id"] for p in wang["participations"]} == {4, 5, 6}
    assert wang["commitments"] and all(c["speaker"]["id"] == "wang-yi" for c in wang["commitments"])
    assert wang["indicators"]
    jp = items(client, "/people?country=JP")
    assert jp and all(p["country"] == "JP" for p in jp)


def test_indicators_as_stated(client: TestClient) -> None:
    found = {i["comparator"]: i for i in items(client, "/indicators")}
    assert found["more than"]["value"] == 300 and found["more than"]["unit"] == "times"
    assert found["nearly"]["value"] == 140e9 and found["nearly"]["unit"] == "USD"
    assert "15 consecutive years" in " ".join(str(i["period_as_stated"]) for i in found.values())
    assert len(items(client, "/indicators?unit=USD")) == 2
    assert len(items(client, "/indicators?country=JP&dialogue=6")) == 3
    assert items(client, "/indicators?dialogue=5") == []
    one = client.get(f"/indicators/{found['nearly']['id']}").json()
    assert one == found["nearly"]


def test_areas_entities_countries(client: TestClient) -> None:
    areas = {a["slug"]: a for a in items(client, "/areas?limit=100")}
    required = {"digital", "ai", "green", "health", "ageing", "trade", "investment", "supply-chains",
                "market-access", "economic-security", "third-party-markets", "subnational", "expos",
                "regional-trade", "multilateral-trade", "people-to-people", "macro-policy",
                "regional-cooperation", "dialogue-mechanisms"}  # fmt: skip
    assert required <= set(areas)
    assert areas["digital"]["commitments"] == len(
        items(client, "/commitments?area=digital&limit=100")
    )
    entities = {e["slug"] for e in items(client, "/entities?limit=100")}
    assert {"rcep", "wto", "cjk-fta", "ftaap", "ciie", "expo-2025-osaka-kansai"} <= entities
    rcep = client.get("/entities/rcep").json()
    assert rcep["commitments"] and all("rcep" in c["entities"] for c in rcep["commitments"])
    docs = client.get("/entities/four-political-documents").json()
    assert docs["context_events"][0]["place"] == "Lima"
    countries = {c["code"]: c for c in items(client, "/countries")}
    assert set(countries) == {"CN", "JP"} and countries["JP"]["dialogues"] == 6


def test_sources(client: TestClient) -> None:
    sources = {s["id"]: s for s in items(client, "/sources?limit=100")}
    readout = sources["mfa-cn-2025-03-22"]
    assert readout["kind"] == "document" and readout["account_of"] == "CN"
    assert readout["original_url"] is None and readout["republished_by"] == "GlobalSecurity.org"
    assert all(s["kind"] == "citation" for k, s in sources.items() if k != "mfa-cn-2025-03-22")
    assert "text" not in readout


def test_statements_are_kept_apart_from_commitments(client: TestClient) -> None:
    statements = items(client, "/statements?limit=100")
    assert any("partners, not rivals" in s["text"] for s in statements)
    commitments = items(client, "/commitments?limit=100")
    assert not any("rivals" in c["statement"] for c in commitments)
    assert client.get(f"/statements/{statements[0]['id']}").json() == statements[0]


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["dataset_version"] == 1
    assert ready.headers["cache-control"] == "no-store"


# Errors


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("/dialogues/99", "dialogue '99'"),
        ("/dialogues/no-such-dialogue", "dialogue 'no-such-dialogue'"),
        ("/dialogues/99999999999999999999999", "dialogue"),
        ("/commitments/4040", "commitment '4040'"),
        ("/people/nobody", "person 'nobody'"),
        ("/indicators/77", "indicator '77'"),
        ("/series/nope", "series 'nope'"),
        ("/entities/nope", "entity 'nope'"),
        ("/sources/nope", "source 'nope'"),
        ("/statements/77", "statement '77'"),
        ("/no/such/path", "/no/such/path"),
    ],
)
def test_unknown_ids_are_404_naming_what_was_not_found(
    client: TestClient, url: str, what: str
) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and what in body["detail"]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/commitments?limit=0", "limit"),
        ("/commitments?limit=101", "limit"),
        ("/commitments?offset=-1", "offset"),
        ("/commitments?offset=10001", "offset"),
        ("/commitments?sort=statement", "sort"),
        ("/commitments?kind=promise", "kind"),
        ("/commitments?area=space-travel", "area"),
        ("/commitments?country=Japan", "country"),
        ("/commitments?mentions=RCEP!", "mentions"),
        ("/commitments?dialogue=abc", "dialogue"),
        ("/commitments/0", "commitment_id"),
        ("/commitments/99999999999999999999", "commitment_id"),
        ("/dialogues?year=12", "year"),
        ("/dialogues?date_from=yesterday", "date_from"),
        ("/indicators/-1", "indicator_id"),
    ],
)
def test_parameters_outside_their_schema_are_422_naming_them(
    client: TestClient, url: str, parameter: str
) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422
    assert parameter in [e["parameter"] for e in body["errors"]]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "query",
    ["area=digital", "area=ai&area=health", "country=JP", "mentions=rcep", "country=cn&kind=joint"],
)
def test_a_linked_filter_finds_the_same_rows_walked_or_driven(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """Rare values drive the query from the link table's index; common ones are checked row by
    row along the list (app/api/commitments.py). Both ways give the same list."""
    from app.api import commitments

    driven = client.get(f"/commitments?{query}&limit=100").json()
    monkeypatch.setattr(commitments, "FEW", -1)  # every value counts as common
    walked = client.get(f"/commitments?{query}&limit=100").json()
    assert walked == driven
    assert driven["items"]


@pytest.mark.parametrize("query", ["area=economic-cooperation", "country=CN&sort=-id"])
def test_one_area_or_country_walks_to_its_end_by_cursor(client: TestClient, query: str) -> None:
    whole = client.get(f"/commitments?{query}&limit=100").json()
    seen, url = [], f"/commitments?{query}&limit=3"
    while url:
        page = client.get(url).json()
        assert page["total"] == whole["total"] and page["total_relation"] == "eq"
        seen += [c["id"] for c in page["items"]]
        url = page["next"]
    assert seen == [c["id"] for c in whole["items"]] and len(seen) == whole["total"] > 3
