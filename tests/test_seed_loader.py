"""The loader takes only what it can trace, and a refused seed leaves the database as it was."""

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from app.db import make_engine, metadata
from app.seed.load import load
from app.seed.verify import SeedError
from tests.conftest import SEED_DIR

READOUT = "readout-2025-03-22.yaml"


def copy_seed(tmp_path: Path) -> Path:
    folder = tmp_path / "seed"
    shutil.copytree(SEED_DIR, folder)
    return folder


def edit(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def by_id(items: list[dict[str, Any]], key: Any) -> dict[str, Any]:
    return next(item for item in items if item.get("id", item.get("slug")) == key)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def shift_quote(data: dict[str, Any]) -> None:
    by_id(data["commitments"], 1)["evidence"][0]["start"] += 1


def type_plain_spaces(data: dict[str, Any]) -> None:
    # The text has an en space (U+2002) between "Iwaya" and "co-chaired"; a curator types a space.
    by_id(data["participations"], 12)["evidence"][1].update(
        quote="Iwaya co-chaired", start=468, end=484
    )


def quote_furniture(data: dict[str, Any]) -> None:
    ev = by_id(data["commitments"], 1)["evidence"][0]
    ev.update(quote="UNITED24", start=0, end=8)


def unknown_area(data: dict[str, Any]) -> None:
    by_id(data["commitments"], 2)["areas"].append("space-travel")


def unknown_entity(data: dict[str, Any]) -> None:
    by_id(data["commitments"], 2)["entities"] = ["atlantis-treaty"]


def duplicate_id(data: dict[str, Any]) -> None:
    data["commitments"].append(dict(by_id(data["commitments"], 3)))


def dangling_speaker(data: dict[str, Any]) -> None:
    by_id(data["commitments"], 4)["speaker"] = "nobody"


def no_evidence(data: dict[str, Any]) -> None:
    by_id(data["indicators"], 1)["evidence"] = [
        e for e in by_id(data["indicators"], 1)["evidence"] if e.get("role") == "attribution"
    ]


def bad_checksum(data: dict[str, Any]) -> None:
    data["sources"][0]["sha256"] = "0" * 64


REFUSALS = {
    "quote not at its offsets": (shift_quote, "commitments[1]", "quote not at its offsets"),
    "hand-typed spaces": (type_plain_spaces, "participations[12]", "\\u2002"),
    "page furniture": (quote_furniture, "commitments[1]", "page furniture"),
    "unknown area": (unknown_area, "commitments[2]", "unknown area 'space-travel'"),
    "unknown entity": (unknown_entity, "commitments[2]", "unknown entity 'atlantis-treaty'"),
    "duplicate id": (duplicate_id, "commitments[3]", "duplicate id"),
    "dangling reference": (dangling_speaker, "commitments[4]", "unknown speaker 'nobody'"),
    "untraceable fact": (no_evidence, "indicators[1]", "no content evidence"),
    "checksum mismatch": (bad_checksum, "sources['mfa-cn-2025-03-22']", "checksum mismatch"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_broken_seed_is_refused_and_changes_nothing(
    case: str, fresh_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_url)
    first = load(engine, SEED_DIR)
    before = table_counts(engine)
    breaker, fact, reason = REFUSALS[case]
    folder = copy_seed(tmp_path)
    # Also change something valid, so a partial write would show in the counts.
    edit(folder, READOUT, lambda d: d["commitments"].pop())
    edit(folder, READOUT, breaker)

    with pytest.raises(SeedError) as refused:
        load(engine, folder)

    messages = [str(p) for p in refused.value.problems]
    assert any(m.startswith(READOUT) and fact in m and reason in m for m in messages), messages
    assert table_counts(engine) == before
    assert first.version == 1
    engine.dispose()


def test_the_loader_error_shows_both_sides_of_a_quote(tmp_path: Path) -> None:
    folder = copy_seed(tmp_path)
    edit(folder, READOUT, type_plain_spaces)
    with pytest.raises(SeedError) as refused:
        load(make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"), folder)
    (message,) = [str(p) for p in refused.value.problems]
    assert "seed has 'Iwaya co-chaired', text has 'Iwaya\\u2002co-chaired'" in message


def test_loading_the_same_seed_twice_changes_nothing(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    first = load(engine, SEED_DIR)
    counts = table_counts(engine)
    second = load(engine, SEED_DIR)
    assert first.changed and not second.changed
    assert second.version == first.version == 1
    assert table_counts(engine) == counts
    engine.dispose()


def test_a_changed_seed_replaces_the_dataset_in_a_new_version(
    fresh_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_url)
    load(engine, SEED_DIR)
    folder = copy_seed(tmp_path)
    edit(folder, READOUT, lambda d: d["commitments"].pop())
    result = load(engine, folder)
    assert result.changed and result.version == 2
    assert result.counts["commitment"] == table_counts(engine)["commitment"]
    engine.dispose()


def test_the_command_names_file_fact_and_reason(tmp_path: Path) -> None:
    folder = copy_seed(tmp_path)
    edit(folder, READOUT, unknown_area)
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "app.seed", "load", "--seed", str(folder), "--database-url", url],
        capture_output=True,
        text=True,
        cwd=SEED_DIR.parent,
        timeout=120,
    )
    assert done.returncode == 1
    assert "seed refused" in done.stderr
    assert f"{READOUT}: commitments[2]: unknown area 'space-travel'" in done.stderr
    assert "Traceback" not in done.stderr


def test_invalid_yaml_is_refused_with_its_file(tmp_path: Path) -> None:
    folder = copy_seed(tmp_path)
    (folder / "broken.yaml").write_text("commitments: [unclosed\n", encoding="utf-8")
    with pytest.raises(SeedError) as refused:
        load(make_engine(f"sqlite:///{tmp_path / 'y.sqlite3'}"), folder)
    assert any(str(p).startswith("broken.yaml: ") for p in refused.value.problems)


def test_a_field_of_the_wrong_type_names_the_fact(tmp_path: Path) -> None:
    folder = copy_seed(tmp_path)
    edit(folder, READOUT, lambda d: by_id(d["indicators"], 2).update(value="lots"))
    with pytest.raises(SeedError) as refused:
        load(make_engine(f"sqlite:///{tmp_path / 'z.sqlite3'}"), folder)
    assert any("indicators[2]" in str(p) and "value" in str(p) for p in refused.value.problems)
