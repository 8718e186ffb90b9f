"""The drafter proposes facts the loader accepts as they are, and finds what the curator found.

A draft is only useful if `read_seed` takes it unchanged (every quote at its offsets, no quote in
page furniture, every reference resolved), if it finds the curated facts of the first readout
without inventing many others, and if its rules hold for another readout of the same genre.
"""

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.seed.draft import draft_header, draft_seed, to_yaml
from app.seed.format import SeedFile
from app.seed.score import score
from app.seed.verify import Seed, read_seed
from app.settings import ROOT
from tests.conftest import SEED_DIR

READOUT = SEED_DIR / "sources" / "mfa-cn-2025-03-22.txt"
VOCABULARY = SEED_DIR / "vocabulary.yaml"

# A made-up readout of the same genre: other countries, people, dates, figures and furniture.
SECOND_READOUT = """\
SUPPORT INDEPENDENT REPORTING - Make a donation today!

Europe and the World

Federal Foreign Office, Germany

Germany and France Hold the Third Economic and Financial Dialogue

Federal Foreign Office, Germany

Updated: October 14, 2026 18:05

On October 14, 2026 local time, Federal Minister for Foreign Affairs Anna Keller and French \
Minister of the Economy and Finance Julien Moreau co-chaired the third Germany-France Economic \
and Financial Dialogue in Berlin. Officials from 12 ministries of both countries attended the \
meeting.

Anna Keller said that since the signing of the Elysée Treaty, bilateral trade has grown nearly \
40 times, and has stayed above 180 billion euros for 8 consecutive years, with two-way \
investment reaching more than 95 billion euros. The two countries are each other's closest \
partners.

First, deepen industrial cooperation. The two countries should build a joint battery supply \
chain, expand cooperation in hydrogen and renewable energy, and promote digital sovereignty.

Second, strengthen financial stability. The two sides should complete the capital markets \
union, support small and medium-sized enterprises, and jointly train skilled workers.

Julien Moreau said France is ready to deepen cooperation with Germany on artificial intelligence.

The participating ministries exchanged views on taxation, energy and transport, and reached a \
number of common understandings. Both sides agreed to hold the fourth dialogue in Paris in 2027.

NEWSLETTER
Sign up for our weekly newsletter
"""


def draft_text(readout: Path, **options: bool) -> str:
    """The draft as the `draft` command writes it (ids from the default, 9001)."""
    seed = draft_seed(readout, VOCABULARY, cited=options.get("cited", True))
    return to_yaml(seed, draft_header(readout, 9001))


def seed_folder(folder: Path, readout: Path, draft: str, base: Path | None = None) -> Path:
    """A seed folder: the vocabulary (or a copy of `base`), the draft, and the readout's text."""
    if base is not None:
        shutil.copytree(base, folder)
    else:
        (folder / "sources").mkdir(parents=True)
        shutil.copy(VOCABULARY, folder / "vocabulary.yaml")
    shutil.copy(readout, folder / "sources" / readout.name)
    (folder / "draft.yaml").write_text(draft, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def curated() -> Seed:
    return read_seed(SEED_DIR)


@pytest.fixture
def second_readout(tmp_path: Path) -> Path:
    path = tmp_path / "readouts" / "bmf-de-2026-10-14.txt"
    path.parent.mkdir()
    path.write_text(SECOND_READOUT, encoding="utf-8")
    return path


def test_the_draft_of_the_first_readout_loads_as_it_is(tmp_path: Path) -> None:
    folder = seed_folder(tmp_path / "seed", READOUT, draft_text(READOUT))
    seed = read_seed(folder)  # raises SeedError listing every problem
    (source,) = [s for s in seed.sources.values() if s.file]
    assert source.file == f"sources/{READOUT.name}"
    assert source.sha256 == hashlib.sha256(READOUT.read_bytes()).hexdigest()
    text = seed.texts[source.id]
    furniture = [text[r.start : r.end] for r in source.excluded]
    assert any("donation" in f for f in furniture)
    assert any("NEWSLETTER" in f and "mailing list" in f for f in furniture)
    assert not any("Economic Dialogue" in f for f in furniture)  # the headline is the readout's
    (dialogue,) = seed.dialogues.values()
    assert (dialogue.edition, str(dialogue.date), dialogue.city) == (6, "2025-03-22", "Tokyo")
    assert dialogue.series in {s.slug for s in SeedFile.model_validate(_yaml(VOCABULARY)).series}
    assert {p.person for p in seed.participations.values()} <= set(seed.people)


def test_a_draft_without_cited_sources_joins_the_curated_seed(tmp_path: Path) -> None:
    draft = draft_text(READOUT, cited=False)
    folder = seed_folder(tmp_path / "seed", READOUT, draft, base=SEED_DIR)
    seed = read_seed(folder)
    assert len(seed.dialogues) == len(read_seed(SEED_DIR).dialogues) + 1


def test_the_draft_finds_the_curated_facts(curated: Seed) -> None:
    draft = draft_seed(READOUT, VOCABULARY)
    result = score(draft, curated, hashlib.sha256(READOUT.read_bytes()).hexdigest())
    for name in ("indicators", "participations"):
        section = result.section(name)
        assert section.curated > 0 and section.found == section.curated, section.missed_spans
    commitments = result.section("commitments")
    assert commitments.curated > 0 and commitments.recall >= 0.8, commitments.missed_spans
    assert result.spurious_rate < 0.2, [s.spurious_spans for s in result.sections]
    assert result.meets_targets


def test_the_rules_know_no_offsets(tmp_path: Path) -> None:
    """Another banner line above the page shifts every drafted fact, and changes nothing else."""
    shifted = tmp_path / "shifted.txt"
    prefix = "Advertisement: subscribe to our print edition\n\n"
    shifted.write_bytes(prefix.encode() + READOUT.read_bytes())
    before, after = draft_seed(READOUT, VOCABULARY), draft_seed(shifted, VOCABULARY)
    for name in ("commitments", "indicators", "participations"):
        spans = [[(e.quote, e.start) for e in f.evidence] for f in getattr(before, name)]
        moved = [
            [(e.quote, (e.start or 0) - len(prefix)) for e in f.evidence]
            for f in getattr(after, name)
        ]
        assert moved == spans


def test_hard_wrapped_text_reads_the_same(tmp_path: Path) -> None:
    """The same readout wrapped at about 70 characters: the same facts, quoting across lines."""
    wrapped = tmp_path / "wrapped" / "wrapped.txt"
    wrapped.parent.mkdir()
    wrapped.write_text(re.sub(r"([^\n]{60,}?) ", "\\1\n", READOUT.read_text("utf-8")), "utf-8")
    folder = seed_folder(tmp_path / "seed", wrapped, draft_text(wrapped))
    seed = read_seed(folder)
    original = draft_seed(READOUT, VOCABULARY)
    for name in ("commitments", "indicators", "participations"):
        assert len(seed.sections[name]) == len(getattr(original, name)) > 0


def test_a_second_readout_of_the_genre(tmp_path: Path, second_readout: Path) -> None:
    folder = seed_folder(tmp_path / "seed", second_readout, draft_text(second_readout))
    seed = read_seed(folder)
    (dialogue,) = seed.dialogues.values()
    assert dialogue.edition == 3
    assert str(dialogue.date) == "2026-10-14"
    assert (dialogue.city, dialogue.host_country) == ("Berlin", "DE")
    assert sorted(dialogue.countries) == ["DE", "FR"]
    assert dialogue.departments_count == 12
    assert dialogue.planned_next is not None and dialogue.planned_next.host_country == "FR"
    chairs = {
        seed.people[p.person].name: (p.title, p.country, p.role)
        for p in seed.participations.values()
    }
    assert chairs == {
        "Anna Keller": ("Federal Minister for Foreign Affairs", "DE", "co-chair"),
        "Julien Moreau": ("Minister of the Economy and Finance", "FR", "co-chair"),
    }
    figures = {
        (i.value, i.unit, i.comparator, i.period_as_stated) for i in seed.indicators.values()
    }
    assert figures == {
        (40, "times", "nearly", "since the signing of the Elysée Treaty"),
        (180e9, "EUR", "above", "for 8 consecutive years"),
        (95e9, "EUR", "more than", "since the signing of the Elysée Treaty"),
    }
    statements = {c.statement for c in seed.commitments.values()}
    should = re.findall(r"(The two (?:countries|sides)) should ([^.]+)\.", SECOND_READOUT)
    expected = {
        f"{actor} should {re.sub(r'^and ', '', item.strip())}."
        for actor, items in should
        for item in re.split(r", (?=\w)", items)
    }
    assert len(expected) == 6 and expected <= statements
    keller = next(p.person for p in seed.participations.values() if p.country == "DE")
    proposals = [c for c in seed.commitments.values() if c.statement in expected]
    assert {c.speaker for c in proposals} == {keller}
    assert {c.point for c in proposals} == {1, 2}
    text = second_readout.read_text(encoding="utf-8")
    (source,) = [s for s in seed.sources.values() if s.file]
    furniture = [text[r.start : r.end] for r in source.excluded]
    assert any("donation" in f for f in furniture) and any("newsletter" in f for f in furniture)


def test_the_commands_run_end_to_end(tmp_path: Path, curated: Seed) -> None:
    drafted = run("draft", str(READOUT))
    assert drafted.startswith("# Draft seed of")
    draft = SeedFile.model_validate(yaml.safe_load(drafted))
    assert draft == draft_seed(READOUT, VOCABULARY)
    printed = run("score", str(READOUT))
    result = score(draft, curated, hashlib.sha256(READOUT.read_bytes()).hexdigest())
    for section in result.sections:
        numbers = re.search(
            rf"^{section.section}\s+(\d+)\s+(\d+)\s+\d+%\s+(\d+)\s+(\d+)$", printed, re.M
        )
        assert numbers, printed
        counts = (section.curated, section.found, section.proposed, section.spurious)
        assert tuple(int(n) for n in numbers.groups()) == counts
    assert "targets" in printed and "met" in printed
    (tmp_path / "draft.yaml").write_text(drafted, encoding="utf-8")
    assert run("score", str(READOUT), "--draft", str(tmp_path / "draft.yaml")) == printed
    assert run("check").startswith("seed ok")  # the existing commands are unchanged


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.seed", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _yaml(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
