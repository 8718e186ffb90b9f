"""The bulk loader: a generated dataset loads and is served; a broken quote refuses the file.

The files come from the benchmark's generator (`bench.synth`), whose quotes are written with
their text, so they all sit at their offsets.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app import schemas
from app.db import make_engine, metadata
from app.main import create_app
from app.seed import bulk
from app.seed.build import Builder
from app.seed.bulk import Bulk, check_bulk, load_bulk, whole_seed
from app.seed.totals import TABLE as TOTALS_TABLE
from app.seed.verify import SeedError
from app.seed.versions import as_rows, fact_hashes, plan
from app.settings import ROOT, Settings
from bench import synth

N = 300


@pytest.fixture(scope="module")
def bulk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "bulk.jsonl"
    synth.write(N, path)
    return path


def records(path: Path, section: str) -> list[dict[str, Any]]:
    lines = (json.loads(line) for line in path.read_text("utf-8").splitlines())
    return [line["record"] for line in lines if line["section"] == section]


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_a_generated_bulk_file_loads_and_is_served(bulk_file: Path, fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    result = load_bulk(engine, bulk_file)
    engine.dispose()
    commitments = records(bulk_file, "commitments")
    assert result.counts["commitment"] == len(commitments) == N

    app = create_app(Settings(database_url=fresh_url))
    with TestClient(app) as client:
        digital = [c for c in commitments if "digital" in c["areas"]]
        page = client.get("/commitments", params={"area": "digital", "limit": 100}).json()
        assert page["total"] == len(digital)
        assert [item["id"] for item in page["items"]] == sorted(c["id"] for c in digital)[:100]

        one = commitments[N // 2]
        served = client.get(f"/commitments/{one['id']}").json()
        assert served["statement"] == one["statement"]
        assert [(e["quote"], e["start"], e["end"]) for e in served["evidence"]] == [
            (e["quote"], e["start"], e["end"]) for e in one["evidence"]
        ]
        source = client.get(f"/sources/{one['evidence'][0]['source']}").json()
        for evidence in served["evidence"]:
            assert source["text"][evidence["start"] : evidence["end"]] == evidence["quote"]

        rare = client.get("/commitments", params={"mentions": synth.RARE_ENTITY}).json()
        assert rare["total"] == 10
        entity = client.get(f"/entities/{synth.RARE_ENTITY}").json()
        assert [c["id"] for c in entity["commitments"]] == [c["id"] for c in rare["items"]]

        hits = client.get("/search", params={"q": synth.SEARCH_TERM, "kind": "commitment"})
        assert hits.json()["total"] == 5

        dialogue = client.get(f"/dialogues/{one['dialogue']}").json()
        assert one["id"] in [c["id"] for c in dialogue["commitments"]]
        assert client.get("/ready").status_code == 200


def test_the_bulk_loader_writes_what_the_curated_builder_makes(
    bulk_file: Path, fresh_url: str
) -> None:
    """Block by block, with plain rows, the same rows and byte-identical documents."""
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file)
    seed = whole_seed(bulk_file)
    builder = Builder(seed)  # a first load: every fact first seen and last changed in version 1
    builder.build()
    with engine.connect() as conn:
        documents = {
            (kind, key): body
            for kind, key, body in conn.execute(text("SELECT kind, key, body FROM document"))
        }
        assert documents == {
            (kind, key): doc.model_dump_json() for (kind, key), doc in builder.docs.items()
        }
        built: dict[str, list[dict[str, Any]]] = {}
        for row in builder.rows:
            built.setdefault(str(type(row).__tablename__), []).append(row.model_dump())
        built["fact_version"] = as_rows(plan({}, fact_hashes(seed), 1))
        for table in metadata.sorted_tables:
            if table.name in ("document", "dataset_version", TOTALS_TABLE):
                continue  # list_total: counted from the rows (app.seed.totals), not built
            stored = [dict(r._mapping) for r in conn.execute(select(table))]
            assert normalised(table.name, stored) == normalised(
                table.name, built.get(table.name, [])
            ), table.name
    engine.dispose()


def test_loading_the_file_again_keeps_every_facts_versions(bulk_file: Path, fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file)
    again = load_bulk(engine, bulk_file)
    with engine.connect() as conn:
        stamps = conn.execute(
            text("SELECT DISTINCT first_seen, last_changed, removed_in FROM fact_version")
        ).all()
    engine.dispose()
    assert again.version == 2
    assert stamps == [(1, 1, None)]


def normalised(table: str, rows: list[dict[str, Any]]) -> list[str]:
    if table == "search_entry":  # numbered block by block: compare without the ids
        rows = [{**row, "id": 0} for row in rows]
    return sorted(repr(sorted(row.items())) for row in rows)


def break_a_quote(source: Path, target: Path) -> int:
    """Copy the file with one commitment's quote moved off its offsets; its line number."""
    lines = source.read_text("utf-8").splitlines()
    numbers = [
        n for n, line in enumerate(lines, start=1) if json.loads(line)["section"] == "commitments"
    ]
    broken = numbers[len(numbers) * 2 // 3]
    data = json.loads(lines[broken - 1])
    data["record"]["evidence"][0]["start"] += 1
    lines[broken - 1] = json.dumps(data, ensure_ascii=False)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return broken


def test_a_broken_quote_refuses_the_file_and_leaves_the_database_as_it_was(
    bulk_file: Path, fresh_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file)
    engine.dispose()
    before = table_counts(fresh_url)
    broken = tmp_path / "broken.jsonl"
    line = break_a_quote(bulk_file, broken)

    engine = make_engine(fresh_url)
    with pytest.raises(SeedError) as refused:
        load_bulk(engine, broken)
    engine.dispose()
    (problem,) = refused.value.problems
    assert problem.file == f"broken.jsonl line {line}"
    assert problem.fact.startswith("commitments[")
    assert "evidence: quote not at its offsets" in problem.reason
    assert table_counts(fresh_url) == before

    cli = subprocess.run(
        [sys.executable, "-m", "app.seed.bulk", "load", str(broken), "--database-url", fresh_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1
    assert "the database was not changed" in cli.stderr
    assert f"broken.jsonl line {line}: commitments[" in cli.stderr
    assert table_counts(fresh_url) == before


def test_a_fact_outside_its_dialogues_block_is_refused(bulk_file: Path, tmp_path: Path) -> None:
    lines = bulk_file.read_text("utf-8").splitlines()
    first = next(n for n, line in enumerate(lines) if '"section":"dialogues"' in line)
    commitment = next(n for n, line in enumerate(lines) if '"section":"commitments"' in line)
    moved = [*lines[:first], lines[commitment], *lines[first:commitment], *lines[commitment + 1 :]]
    path = tmp_path / "moved.jsonl"
    path.write_text("\n".join(moved) + "\n", encoding="utf-8")
    cli = subprocess.run(
        [sys.executable, "-m", "app.seed.bulk", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1
    assert f"moved.jsonl line {first + 1}: commitments[" in cli.stderr
    assert "a fact must follow its dialogue's line" in cli.stderr


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in primary-key order (a load's time excepted)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table in metadata.sorted_tables:
                columns = [c for c in table.columns if c.name != "loaded_at"]
                query = select(*columns).order_by(*table.primary_key.columns)
                out[table.name] = [tuple(row) for row in conn.execute(query)]
            return out
    finally:
        engine.dispose()


def test_worker_processes_write_what_one_process_writes(
    bulk_file: Path, fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks checked and built in worker processes, a few blocks a chunk, make the very rows
    and documents (and file digest) the one-process load makes."""
    monkeypatch.setattr(bulk, "CHUNK_BYTES", 20_000)  # several chunks of this small file
    assert len(list(Bulk(bulk_file).chunks(0, 1))) > 3
    engine = make_engine(fresh_url)
    one = load_bulk(engine, bulk_file, workers=0)
    engine.dispose()
    alone = snapshot(fresh_url)
    engine = make_engine(fresh_url)
    two = load_bulk(engine, bulk_file, workers=2)  # the same facts again: the same versions
    engine.dispose()
    together = snapshot(fresh_url)
    assert (one.version, two.version, one.counts) == (1, 2, two.counts)
    assert [row[:2] for row in together.pop("dataset_version")] == [
        row[:2] for row in alone.pop("dataset_version")
    ] + [(2, file_digest(bulk_file))]
    assert together == alone


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_problem_across_chunks_is_reported_as_one_process_reports_it(
    bulk_file: Path, fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duplicate id in another chunk is only seen by the main process: the load is refused
    with the one-process load's report, and the database left as it was."""
    monkeypatch.setattr(bulk, "CHUNK_BYTES", 20_000)
    lines = bulk_file.read_text("utf-8").splitlines()
    commitments = [n for n, line in enumerate(lines) if '"section":"commitments"' in line]
    first, last = json.loads(lines[commitments[0]]), json.loads(lines[commitments[-1]])
    last["record"]["id"] = first["record"]["id"]
    lines[commitments[-1]] = json.dumps(last, ensure_ascii=False)
    duplicated = tmp_path / "duplicated.jsonl"
    duplicated.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SeedError) as checked:
        check_bulk(duplicated)
    assert "duplicate id" in str(checked.value)

    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file, workers=0)
    before = snapshot(fresh_url)
    with pytest.raises(SeedError) as refused:
        load_bulk(engine, duplicated, workers=2)
    engine.dispose()
    assert refused.value.problems == checked.value.problems
    assert snapshot(fresh_url) == before


def test_rows_are_written_the_same_however_many_a_statement(
    bulk_file: Path, fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite many rows go in one INSERT; batches that do not fill the last statement, and
    statements of one row each, write the very same rows (in the same order)."""
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file, workers=0)
    engine.dispose()
    many = snapshot(fresh_url)
    monkeypatch.setattr(bulk, "VALUES_PER_INSERT", 5)  # 1 or 2 rows a statement
    monkeypatch.setattr(bulk, "BATCH_ROWS", 997)  # many flushes, of odd sizes
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file, workers=0)
    engine.dispose()
    few = snapshot(fresh_url)
    assert [row[:1] for row in few.pop("dataset_version")] == [(1,), (2,)]
    many.pop("dataset_version")
    assert few == many


def search_index_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table}")]
                for table in bulk.SearchIndex.TABLES
            }
    finally:
        engine.dispose()


def test_the_search_index_made_beside_the_load_is_the_one_a_rebuild_makes(
    bulk_file: Path, fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not fresh_url.startswith("sqlite"):
        pytest.skip("FTS5 is SQLite's")
    copied: list[bool] = []
    copy_into = bulk.SearchIndex.copy_into
    monkeypatch.setattr(bulk.SearchIndex, "copy_into", lambda self: copied.append(copy_into(self)))
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file)
    assert copied  # made beside
    beside = search_index_rows(fresh_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
    assert search_index_rows(fresh_url) == beside
    assert beside["search_fts_docsize"]

    # an index configured otherwise than a fresh one is rebuilt in place, and still serves
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', 8)")
    copied.clear()
    load_bulk(engine, bulk_file)
    assert not copied  # rebuilt in place
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        (hits,) = conn.exec_driver_sql(
            "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (synth.SEARCH_TERM,)
        ).one()
    engine.dispose()
    assert hits >= 5


def test_values_sent_between_processes_come_back_as_they_were() -> None:
    values = ["a", "ü", 1, None, ["x", "y"], 2**70, True]
    assert bulk.uncompact(bulk.compact(values[:5])) == values[:5]
    assert isinstance(bulk.compact(values[:5]), bytes)
    assert bulk.uncompact(bulk.compact(values)) == values  # 2**70: not JSON's, kept as is
    floats = [0.1, float("nan")]
    assert bulk.compact(floats, json_safe=False) is floats


def test_builder_facts_are_built_in_the_order_asked_and_listed_in_document_order(
    bulk_file: Path,
) -> None:
    seed = whole_seed(bulk_file)
    first = Builder(seed)
    in_order = first.facts()
    second = Builder(seed)
    commitments_first = second.facts(bulk.BUILD_ORDER)
    assert list(in_order) == list(commitments_first) == list(bulk.FACTS)
    assert {k: list(v) for k, v in in_order.items()} == {
        k: list(v) for k, v in commitments_first.items()
    }
    assert sorted(map(repr, first.rows)) == sorted(map(repr, second.rows))
    assert type(second.rows[0]).__tablename__ == "commitment"
    assert type(first.rows[0]).__tablename__ == "participation"


def test_an_entity_lists_its_first_facts_and_counts_them_all(
    bulk_file: Path, fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many facts name an entity, its document holds the first few by id (here 3,
    so that this small file has more), with totals and the filtered lists for the rest; the
    bulk loader, its workers trimming as they go, writes what the curated builder makes."""
    monkeypatch.setattr(schemas, "ENTITY_FACTS", 3)
    monkeypatch.setattr(bulk, "CHUNK_BYTES", 20_000)  # several chunks, merged
    engine = make_engine(fresh_url)
    load_bulk(engine, bulk_file, workers=2)
    engine.dispose()
    builder = Builder(whole_seed(bulk_file))
    builder.build()
    with TestClient(create_app(Settings(database_url=fresh_url))) as client:
        entities = client.get("/entities", params={"limit": 100}).json()["items"]
        for entity in entities:
            built = builder.docs[("entity", entity["slug"])].model_dump(mode="json")
            assert entity == built
            for kind in ("commitments", "statements"):
                naming = {"mentions": entity["slug"], "limit": 100}
                listed = client.get(f"/{kind}", params=naming).json()
                assert entity["totals"][kind] == listed["total"] == len(listed["items"])
                first = [fact["id"] for fact in listed["items"]][:3]
                assert [fact["id"] for fact in entity[kind]] == first
        rare = client.get(f"/entities/{synth.RARE_ENTITY}").json()
        assert (rare["totals"]["commitments"], len(rare["commitments"])) == (10, 3)
        assert any(entity["totals"]["statements"] for entity in entities)
