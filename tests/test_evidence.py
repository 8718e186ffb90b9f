"""Every fact served can be traced: each quote is the source's text at its offsets."""

from fastapi.testclient import TestClient

from tests.conftest import SEED_DIR


def test_every_quote_is_the_text_at_its_offsets(client: TestClient) -> None:
    source = client.get("/sources/mfa-cn-2025-03-22").json()
    text = source["text"]
    assert text == (SEED_DIR / "sources/mfa-cn-2025-03-22.txt").read_bytes().decode("utf-8")
    spans = source["evidence"]
    assert len(spans) > 100
    for span in spans:
        assert text[span["start"] : span["end"]] == span["quote"], span
        assert span["link"] == f"/sources/mfa-cn-2025-03-22#char={span['start']},{span['end']}"


def test_no_evidence_falls_in_page_furniture(client: TestClient) -> None:
    source = client.get("/sources/mfa-cn-2025-03-22").json()
    furniture = source["excluded"]
    labels = " ".join(r["label"] for r in furniture).lower()
    assert "banner" in labels and "newsletter" in labels
    for span in source["evidence"]:
        for r in furniture:
            assert span["end"] <= r["start"] or span["start"] >= r["end"], (span, r)


def test_the_stored_text_keeps_its_en_spaces_and_checksum(client: TestClient) -> None:
    source = client.get("/sources/mfa-cn-2025-03-22").json()
    assert source["text"].count("\u2002") == 48
    assert source["sha256"] == "51985a817e586b8ac63ba0561f37c20f2820069d4612a724506a1d15daeef162"


def spans_in(doc: object) -> set[tuple[int, int]]:
    """Every (start, end) of evidence anywhere inside a JSON document."""
    found: set[tuple[int, int]] = set()
    if isinstance(doc, dict):
        if "start" in doc and "quote" in doc and doc["start"] is not None:
            found.add((doc["start"], doc["end"]))
        for value in doc.values():
            found |= spans_in(value)
    elif isinstance(doc, list):
        for value in doc:
            found |= spans_in(value)
    return found


def test_each_span_leads_to_the_fact_it_supports(client: TestClient) -> None:
    source = client.get("/sources/mfa-cn-2025-03-22").json()
    facts: dict[str, set[tuple[int, int]]] = {}
    for span in source["evidence"]:
        if span["fact"] not in facts:
            response = client.get(span["fact"])
            assert response.status_code == 200, span["fact"]
            facts[span["fact"]] = spans_in(response.json())
        assert (span["start"], span["end"]) in facts[span["fact"]], span


def test_every_served_fact_carries_evidence(client: TestClient) -> None:
    dialogue = client.get("/dialogues/6").json()
    facts = [
        *dialogue["participations"],
        *dialogue["context_events"],
        *dialogue["commitments"],
        *dialogue["statements"],
        *dialogue["indicators"],
        *dialogue["aims"],
    ]
    assert facts
    for fact in facts:
        assert fact["evidence"], fact
        for ev in fact["evidence"]:
            if ev["verification"] == "verbatim":
                assert ev["link"].startswith("/sources/") and "#char=" in ev["link"]
    for dialogue_id in range(1, 6):
        older = client.get(f"/dialogues/{dialogue_id}").json()
        assert {ev["verification"] for ev in older["evidence"]} == {"citation"}
        assert all(ev["link"].startswith("https://") for ev in older["evidence"])
