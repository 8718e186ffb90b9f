"""Score a draft against the curated seed of the same readout: what it finds, what it invents.

A drafted fact finds a curated one when their main content spans overlap with an intersection
over union of at least 0.5; facts are matched one to one, best overlaps first. The main span of
a fact is its first `content` evidence without a `field` (the first content span otherwise), so
the score measures where the rules put their quotes, the part a curator would otherwise retype.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.seed.format import SeedFile
from app.seed.verify import Seed

SCORED = ("commitments", "indicators", "participations")
MIN_IOU = 0.5
TARGET_RECALL = {"commitments": 0.8, "indicators": 1.0, "participations": 1.0}
MAX_SPURIOUS = 0.2


def main_span(fact: Any) -> tuple[str, int, int] | None:
    """(source, start, end) of the fact's main content quote, or None when it quotes nothing."""
    quoted = [
        ev
        for ev in getattr(fact, "evidence", [])
        if ev.role == "content" and ev.start is not None and ev.end is not None
    ]
    chosen = next((ev for ev in quoted if ev.field is None), quoted[0] if quoted else None)
    if chosen is None or chosen.start is None or chosen.end is None:
        return None
    return chosen.source, chosen.start, chosen.end


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def match(
    curated: Sequence[tuple[int, int]], drafted: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Index pairs (curated, drafted), one to one, greedily by descending overlap >= MIN_IOU."""
    pairs = sorted(
        ((iou(c, d), i, j) for i, c in enumerate(curated) for j, d in enumerate(drafted)),
        reverse=True,
    )
    used_c: set[int] = set()
    used_d: set[int] = set()
    out = []
    for overlap, i, j in pairs:
        if overlap < MIN_IOU:
            break
        if i not in used_c and j not in used_d:
            used_c.add(i)
            used_d.add(j)
            out.append((i, j))
    return sorted(out)


@dataclass(frozen=True)
class SectionScore:
    section: str
    curated: int
    proposed: int
    found: int
    missed_spans: tuple[str, ...] = ()  # quotes of curated facts the draft did not find
    spurious_spans: tuple[str, ...] = ()  # quotes of drafted facts that match nothing

    @property
    def spurious(self) -> int:
        return self.proposed - self.found

    @property
    def recall(self) -> float:
        return self.found / self.curated if self.curated else 1.0


@dataclass(frozen=True)
class Score:
    sections: tuple[SectionScore, ...]
    areas_shared: int = 0  # found commitments sharing an area with their curated fact
    areas_same: int = 0  # found commitments with exactly the curated areas

    @property
    def proposed(self) -> int:
        return sum(s.proposed for s in self.sections)

    @property
    def spurious(self) -> int:
        return sum(s.spurious for s in self.sections)

    @property
    def spurious_rate(self) -> float:
        return self.spurious / self.proposed if self.proposed else 0.0

    def section(self, name: str) -> SectionScore:
        return next(s for s in self.sections if s.section == name)

    @property
    def meets_targets(self) -> bool:
        """Every indicator and participation, 80% of commitments, under 20% spurious."""
        recall_ok = all(self.section(n).recall >= r for n, r in TARGET_RECALL.items())
        return recall_ok and self.spurious_rate < MAX_SPURIOUS


def score(draft: SeedFile, curated: Seed, sha256: str) -> Score:
    """Compare the draft's facts with the curated facts quoting the same file (by checksum).

    The areas of found commitments are compared too, for information: they are not a target.
    """
    curated_sources = {s.id for s in curated.sources.values() if s.sha256 == sha256}
    draft_sources = {s.id for s in draft.sources if s.sha256 == sha256}
    sections = []
    shared = same = 0
    for name in SCORED:
        c_facts = _quoting(curated.sections[name].values(), curated_sources)
        d_facts = _quoting(getattr(draft, name), draft_sources)
        pairs = match([s for s, _, _ in c_facts], [s for s, _, _ in d_facts])
        found_c = {i for i, _ in pairs}
        found_d = {j for _, j in pairs}
        sections.append(
            SectionScore(
                section=name,
                curated=len(c_facts),
                proposed=len(d_facts),
                found=len(pairs),
                missed_spans=tuple(q for i, (_, q, _) in enumerate(c_facts) if i not in found_c),
                spurious_spans=tuple(q for j, (_, q, _) in enumerate(d_facts) if j not in found_d),
            )
        )
        if name == "commitments":
            areas = [(set(c_facts[i][2].areas), set(d_facts[j][2].areas)) for i, j in pairs]
            shared = sum(bool(c & d) for c, d in areas)
            same = sum(c == d for c, d in areas)
    return Score(tuple(sections), shared, same)


def _quoting(facts: Iterable[Any], sources: set[str]) -> list[tuple[tuple[int, int], str, Any]]:
    """(main span, its quote, the fact) for each fact whose main span quotes one of `sources`."""
    out = []
    for fact in facts:
        span = main_span(fact)
        if span is not None and span[0] in sources:
            quote = next(
                (ev.quote or "" for ev in fact.evidence if (ev.start, ev.end) == span[1:]), ""
            )
            out.append(((span[1], span[2]), " ".join(quote.split()), fact))
    return out


def report(result: Score, verbose: bool = False) -> str:
    """The score as the command prints it: one line per kind of fact, then the totals."""
    lines = [f"{'':16}{'curated':>8}{'found':>7}{'recall':>8}{'proposed':>10}{'spurious':>10}"]
    for s in result.sections:
        lines.append(
            f"{s.section:16}{s.curated:>8}{s.found:>7}{s.recall:>8.0%}{s.proposed:>10}{s.spurious:>10}"
        )
    lines.append(
        f"spurious overall: {result.spurious} of {result.proposed} proposed "
        f"({result.spurious_rate:.0%}); targets "
        f"(all indicators and participations, >=80% commitments, <20% spurious): "
        f"{'met' if result.meets_targets else 'NOT met'}"
    )
    found = result.section("commitments").found
    lines.append(
        f"areas of the {found} found commitments (not a target): {result.areas_shared} share "
        f"an area with the curated fact, {result.areas_same} have the same areas"
    )
    if verbose:
        for s in result.sections:
            lines += [f"missed {s.section}: {q}" for q in s.missed_spans]
            lines += [f"spurious {s.section}: {q}" for q in s.spurious_spans]
    return "\n".join(lines)
