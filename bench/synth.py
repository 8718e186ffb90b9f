"""A synthetic dataset of N commitments in the bulk format (`app.seed.bulk`), deterministic per N.

Proportions follow the curated seed: ~36 commitments per dialogue (1-3 areas each, ~20% naming
an entity, 2-4 evidence spans), ~9 statements, ~3 indicators, 2-4 participations, sometimes a
context event, aims and a planned next edition; ~10% of the statements name an entity (none
in the curated seed does, but the statements' entity filter needs some to find). Every dialogue has its own stored source text;
each sentence is written and quoted in one step, so every quote sits at its offsets (code
points: names and cities carry non-ASCII letters, some quotes an EN SPACE). Series are about
12 editions long, co-chairs rotate every 3 editions, and each series has a cited registry page
that its dialogues cite.

Fixed at every size, so queries can be compared across sizes:
- the entity RARE_ENTITY is named by exactly 10 commitments;
- the word SEARCH_TERM is in exactly 5 commitments (and so in their source paragraphs).

    python -m bench.synth 10000 /tmp/bulk-10k.jsonl
"""

import datetime as dt
import hashlib
import json
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

ROOT = Path(__file__).absolute().parent.parent  # not resolved: a copy of the tree may link bench/
GENERATOR_VERSION = 4
PER_DIALOGUE = 36
EDITIONS_PER_SERIES = 12
RARE_ENTITY = "quillon-accord"
SEARCH_TERM = "zephyrite"
COMMON_ENTITY = "wto"

COUNTRIES = {
    "CN": ("China", ["Beijing", "Shanghai", "Xiamen"]),
    "JP": ("Japan", ["Tokyo", "Osaka", "Kyōto"]),
    "KR": ("the Republic of Korea", ["Seoul", "Busan"]),
    "US": ("the United States", ["Washington", "San Francisco"]),
    "DE": ("Germany", ["Berlin", "Düsseldorf"]),
    "FR": ("France", ["Paris", "Lyon"]),
    "GB": ("the United Kingdom", ["London", "Edinburgh"]),
    "IN": ("India", ["New Delhi", "Mumbai"]),
    "BR": ("Brazil", ["Brasília", "São Paulo"]),
    "ID": ("Indonesia", ["Jakarta", "Surabaya"]),
    "VN": ("Viet Nam", ["Hà Nội", "Đà Nẵng"]),
    "AU": ("Australia", ["Canberra", "Sydney"]),
}
FIRST = ["Wei", "Hiro", "Min-jun", "Ana", "Jürgen", "Élodie", "Siân", "Priya", "João", "Dewi"]
FIRST += ["Thảo", "Liam", "Mei", "Kenji", "Sofía", "Lars", "Zoë", "Arjun", "Chloé", "Tomás"]
LAST = ["Zhang", "Sato", "Kim", "Silva", "Müller", "Lefèvre", "Evans", "Sharma", "Santos"]
LAST += ["Wijaya", "Nguyễn", "Taylor", "Li", "Tanaka", "Park", "Moreau", "Øster", "Iyer"]
TITLES = ["Foreign Minister", "Minister of Commerce", "Minister of Economy and Trade"]
DEPUTY = ["Vice Minister of Foreign Affairs", "Deputy Minister of Commerce", "Trade Envoy"]
VERBS = ["deepen", "expand", "strengthen", "promote", "facilitate", "explore", "support"]
VERBS += ["enhance", "advance", "upgrade", "step up", "consolidate"]
OBJECTS = ["cooperation on {}", "exchanges in {}", "joint projects in {}", "dialogue on {}"]
OBJECTS += ["practical cooperation in {}", "policy coordination on {}"]
QUALIFIERS = ["in a pragmatic manner", "through existing mechanisms", "at the working level"]
QUALIFIERS += ["for mutual benefit", "on the basis of equality", "in the coming years"]
QUALIFIERS += ["with the participation of enterprises", "within the multilateral framework"]
ACTORS = ["the two sides", "the two countries", "enterprises of the two countries"]
ACTORS += ["the relevant departments", "local governments of the two countries"]
SUBJECTS = ["the two economies", "bilateral trade", "economic cooperation", "the relationship"]
SUBJECTS += ["investment between the two countries", "the regional economy"]
PREDICATES = ["are highly complementary", "has great potential", "remains resilient"]
PREDICATES += ["faces new opportunities", "is mutually beneficial", "should not be politicized"]
HEADINGS = ["Consolidate the foundation of traditional cooperation", "Open up new areas"]
HEADINGS += ["Uphold free trade", "Promote people-to-people exchanges", "Keep supply chains open"]
AIMS = ["delivering on the common understandings of the two leaders"]
AIMS += ["strengthening communication on macroeconomic policies"]
AIMS += ["expanding cooperation in new areas", "drawing a new blueprint for cooperation"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]
MONTHS += ["September", "October", "November", "December"]
ENTITY_KINDS = ["agreement", "institution", "mechanism", "event", "document", "negotiation"]
BANNER = "[Synthetic readout | generated for benchmarks, not a real document]"
FOOTER = "Sign up for our newsletter"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def spread(count: int, total: int, phase: float) -> set[int]:
    """`count` ids spread evenly over 1..total (the same count at every size)."""
    return {min(total, int((j + phase) * total / count) + 1) for j in range(count)}


@dataclass
class Plan:
    commitments: int
    dialogues: int
    series: int

    @classmethod
    def of(cls, n: int) -> "Plan":
        dialogues = math.ceil(n / PER_DIALOGUE)
        return cls(n, dialogues, math.ceil(dialogues / EDITIONS_PER_SERIES))

    def series_of(self, d: int) -> tuple[int, int]:
        """Dialogue d (1-based) is edition e of series s (0-based)."""
        return (d - 1) % self.series, (d - 1) // self.series + 1

    def editions(self, s: int) -> int:
        return sum(1 for d in range(s + 1, self.dialogues + 1, self.series))


class Text:
    """A source text written sentence by sentence; `quote` places a span and returns its evidence."""

    def __init__(self, source: str):
        self.source = source
        self.parts: list[str] = []
        self.pos = 0

    def add(self, s: str) -> tuple[int, int]:
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        return start, self.pos

    def quote(self, s: str, **extra: Any) -> dict[str, Any]:
        start, end = self.add(s)
        return {"source": self.source, "quote": s, "start": start, "end": end, **extra}

    def text(self) -> str:
        return "".join(self.parts)


class Generator:
    def __init__(self, n: int, seed: int = 7):
        self.plan = Plan.of(n)
        self.rng = random.Random(seed * 1_000_003 + n)
        vocabulary = yaml.safe_load((ROOT / "seed" / "vocabulary.yaml").read_text("utf-8"))
        self.areas = vocabulary["areas"]
        self.area_slugs = [a["slug"] for a in self.areas]
        self.area_label = {a["slug"]: a["label"].lower() for a in self.areas}
        self.entities = list(vocabulary["entities"])
        for k in range(32):
            self.entities.append(
                {
                    "slug": f"accord-{k + 1}",
                    "name": f"Accord {k + 1} on Economic Partnership",
                    "kind": ENTITY_KINDS[k % len(ENTITY_KINDS)],
                    "aliases": [f"EPA-{k + 1}"],
                    "description": "A synthetic agreement.",
                }
            )
        self.common = list(self.entities)
        self.entities.append(
            {
                "slug": RARE_ENTITY,
                "name": "Quillon Accord",
                "kind": "agreement",
                "aliases": [],
                "description": "Named by exactly 10 commitments at every size.",
            }
        )
        self.entity_name = {e["slug"]: e["name"] for e in self.entities}
        codes = sorted(COUNTRIES)
        self.pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
        self.rare = spread(10, n, 0.5)
        self.search = spread(5, n, 0.25)
        self.ids = {"commitments": 0, "statements": 0, "indicators": 0, "participations": 0}

    # People: per series and country, a co-chair and a deputy for every 3 editions.
    def person(self, s: int, cc: str, rotation: int, deputy: bool) -> tuple[str, str]:
        pid = f"s{s + 1}-{cc.lower()}-{rotation + 1}" + ("-d" if deputy else "")
        h = int(hashlib.blake2s(pid.encode(), digest_size=4).hexdigest(), 16)
        return pid, f"{FIRST[h % len(FIRST)]} {LAST[(h // 7) % len(LAST)]}"

    def next_id(self, section: str) -> int:
        self.ids[section] += 1
        return self.ids[section]

    def header(self) -> Iterator[dict[str, Any]]:
        for code, (name, _) in sorted(COUNTRIES.items()):
            yield {
                "section": "countries",
                "record": {"code": code, "name": name.removeprefix("the ")},
            }
        for a in self.areas:
            yield {"section": "areas", "record": a}
        for e in self.entities:
            yield {"section": "entities", "record": e}
        for s in range(self.plan.series):
            a, b = self.pairs[s % len(self.pairs)]
            for cc in (a, b):
                for rotation in range(math.ceil(self.plan.editions(s) / 3)):
                    for deputy in (False, True):
                        pid, name = self.person(s, cc, rotation, deputy)
                        record = {"id": pid, "name": name, "aliases": [], "country": cc}
                        yield {"section": "people", "record": record}
            yield {
                "section": "sources",
                "record": {
                    "id": f"registry-{s + 1}",
                    "title": f"Register of the {self.series_name(s)}",
                    "publisher": "Synthetic Registry Office",
                    "url": f"https://registry.example.org/series/{s + 1}",
                    "language": "en",
                    "licence": "Synthetic; cited by address.",
                },
            }
            yield {
                "section": "series",
                "record": {
                    "slug": f"series-{s + 1}",
                    "name": self.series_name(s),
                    "aliases": [f"Series {s + 1}"],
                    "countries": [a, b],
                    "established": f"agreed in {2000 + s % 20}",
                    "evidence": [
                        {
                            "source": f"registry-{s + 1}",
                            "field": "established",
                            "supports": "when the series was agreed",
                        }
                    ],
                },
            }

    def series_name(self, s: int) -> str:
        a, b = self.pairs[s % len(self.pairs)]
        short = {c: COUNTRIES[c][0].removeprefix("the ") for c in (a, b)}
        return f"{short[a]}-{short[b]} High-Level Economic Dialogue {s // len(self.pairs) + 1}"

    def dialogue(self, d: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        s, edition = self.plan.series_of(d)
        a, b = self.pairs[s % len(self.pairs)]
        host = (a, b)[edition % 2]
        city = rng.choice(COUNTRIES[host][1])
        date = dt.date(1995, 1, 1) + dt.timedelta(days=edition * 300 + s % 250)
        rotation = (edition - 1) // 3
        chairs = {cc: self.person(s, cc, rotation, False) for cc in (a, b)}
        deputies = {cc: self.person(s, cc, rotation, True) for cc in (a, b)}
        sid = f"readout-{d}"
        t = Text(sid)
        publisher = f"Ministry of Foreign Affairs of {COUNTRIES[host][0]}"
        t.add(BANNER)
        banner_end = t.pos
        t.add("\n\n")
        title = f"The {ordinal(edition)} {self.series_name(s)} Held in {city}"
        title_ev = t.quote(title, field="title")
        t.add("\n\n")
        date_text = f"On {MONTHS[date.month - 1]} {date.day}, {date.year}"
        date_ev = t.quote(date_text, field="date")
        t.add(", ")
        participations = []
        for n, cc in enumerate((a, b)):
            pid, name = chairs[cc]
            role_title = TITLES[(s + n) % len(TITLES)]
            ev = t.quote(f"{name}, {role_title}")
            t.add(" of " + COUNTRIES[cc][0] + (", and " if n == 0 else ", "))
            participations.append((pid, "co-chair", role_title, cc, [ev]))
        chaired = t.quote("co-chaired", field="role")
        for p in participations:
            p[4].append(chaired)
        t.add(" the ")
        edition_ev = t.quote(f"{ordinal(edition)} {self.series_name(s)}", field="edition")
        t.add(" ")
        city_ev = t.quote(f"in {city}", field="city")
        t.add(". ")
        for cc in (a, b):
            if rng.random() < 0.5:
                pid, name = deputies[cc]
                deputy_title = DEPUTY[s % len(DEPUTY)]
                ev = t.quote(f"{name}, {deputy_title},")
                t.add(" also attended. ")
                participations.append((pid, "participant", deputy_title, cc, [ev]))
        departments = 8 + d % 12
        dep_text = f"{departments} government departments of both countries"
        t.add("Officials from ")
        dep_ev = t.quote(dep_text, field="departments_count")
        t.add(" attended the meeting.")
        aims = []
        for aim in rng.sample(AIMS, rng.randint(0, 2)):
            t.add(" The dialogue aimed at ")
            ev = t.quote(aim)
            t.add(".")
            aims.append({"text": aim[0].upper() + aim[1:], "evidence": [ev]})
        event = None
        if rng.random() < 0.2:
            place = rng.choice(COUNTRIES[rng.choice((a, b))][1])
            t.add(" Recalling ")
            ev = t.quote(f"the leaders' meeting in {place} last year")
            t.add(", the two sides reviewed its outcomes.")
            event = {
                "id": f"leaders-meeting-{d}",
                "dialogue": d,
                "title": f"Leaders' meeting in {place}",
                "kind": "leaders' meeting",
                "date_as_stated": "last year",
                "year": date.year - 1,
                "place": place,
                "participants": [],
                "agreed": [],
                "entities": [],
                "evidence": [ev],
            }
        commitments = self.commitments(d, t, chairs, (a, b))
        statements = self.statements(d, t, chairs, (a, b))
        indicators = self.indicators(d, t, chairs, (a, b), date)
        planned = None
        if rng.random() < 0.5:
            nxt = (a, b)[(edition + 1) % 2]
            t.add("\n\nThe two sides agreed ")
            ev = t.quote(f"to hold the next dialogue in {COUNTRIES[nxt][0]} at an appropriate time")
            t.add(".")
            planned = {
                "as_stated": ev["quote"],
                "host_country": nxt,
                "evidence": [ev],
            }
        t.add("\n\n")
        footer_start = t.pos
        t.add(FOOTER)
        text = t.text()
        dialogue = {
            "id": d,
            "slug": f"series-{s + 1}-{edition}",
            "series": f"series-{s + 1}",
            "edition": edition,
            "title": title,
            "date": date.isoformat(),
            "city": city,
            "host_country": host,
            "countries": [a, b],
            "departments_count": departments,
            "departments_as_stated": dep_text,
            "gap_as_stated": None,
            "previous": d - self.plan.series if edition > 1 else None,
            "aims": aims,
            "planned_next": planned,
            "evidence": [
                date_ev,
                city_ev,
                edition_ev,
                title_ev,
                dep_ev,
                {
                    "source": f"registry-{s + 1}",
                    "field": "edition",
                    "supports": f"edition {edition} in the register",
                },
            ],
        }
        yield {"section": "dialogues", "record": dialogue}
        yield {
            "section": "sources",
            "record": {
                "id": sid,
                "title": title,
                "publisher": publisher,
                "account_of": host,
                "url": f"https://example.org/readouts/{d}",
                "published_as_stated": date_text.removeprefix("On "),
                "published_on": date.isoformat(),
                "language": "en",
                "licence": "Synthetic text generated for benchmarks.",
                "file": f"sources/{sid}.txt",
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "excluded": [
                    {"start": 0, "end": banner_end, "label": "banner"},
                    {"start": footer_start, "end": len(text), "label": "newsletter sign-up"},
                ],
            },
            "text": text,
        }
        for pid, role, role_title, cc, evs in participations:
            record = {
                "id": self.next_id("participations"),
                "dialogue": d,
                "person": pid,
                "role": role,
                "title": role_title,
                "country": cc,
                "evidence": evs,
            }
            yield {"section": "participations", "record": record}
        if event:
            yield {"section": "context_events", "record": event}
        for c in commitments:
            yield {"section": "commitments", "record": c}
        for st in statements:
            yield {"section": "statements", "record": st}
        for i in indicators:
            yield {"section": "indicators", "record": i}

    def count_for(self, d: int) -> int:
        if d < self.plan.dialogues:
            return PER_DIALOGUE
        return self.plan.commitments - PER_DIALOGUE * (self.plan.dialogues - 1)

    def commitments(
        self,
        d: int,
        t: Text,
        chairs: dict[str, tuple[str, str]],
        pair: tuple[str, str],
    ) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        count = self.count_for(d)
        headings = rng.sample(HEADINGS, 4)
        point = 0
        for k in range(count):
            cid = self.next_id("commitments")
            new_point = min(4, k * 4 // max(count, 1) + 1) if k >= 6 else 0
            heading_ev = None
            if new_point != point:
                point = new_point
                t.add(f"\n\n{point}. ")
                heading_ev = t.quote(headings[point - 1], field="heading")
                t.add(".")
            elif k == 0:
                t.add("\n\n")
            t.add(" ")
            r = rng.random()
            areas = rng.sample(self.area_slugs, 1 if r < 0.6 else 2 if r < 0.9 else 3)
            obj = rng.choice(OBJECTS).format(self.area_label[areas[0]])
            if len(areas) > 1:
                obj += " and " + " and ".join(self.area_label[x] for x in areas[1:])
            qualifier = rng.choice(QUALIFIERS)
            if rng.random() < 0.05:
                qualifier = qualifier.replace(" ", "\u2002", 1)
            clause = f"{rng.choice(VERBS)} {obj} {qualifier}"
            entities: list[str] = []
            if cid in self.rare:
                entities = [RARE_ENTITY]
            elif rng.random() < 0.2:
                entities = rng.sample(
                    [e["slug"] for e in self.common], 1 if rng.random() < 0.85 else 2
                )
            if entities:
                clause += " under the " + " and the ".join(self.entity_name[e] for e in entities)
            if cid in self.search:
                clause += f" including {SEARCH_TERM} reserves"
            actor = rng.choice(ACTORS)
            evidence = []
            if rng.random() < 0.7:
                kind = "proposal"
                cc = pair[rng.random() < 0.5]
                speaker, name = chairs[cc]
                said = t.quote(f"{name} said", role="attribution")
                t.add(" that ")
                actor_ev = t.quote(actor, field="actor")
                t.add(" should ")
                content = t.quote(clause)
                verb = "should"
                evidence = [content, said]
            else:
                kind, speaker = "joint", None
                agreed = t.quote("The two sides agreed", field="kind")
                t.add(" that ")
                actor_ev = t.quote(actor, field="actor")
                t.add(" will ")
                content = t.quote(clause)
                verb = "will"
                evidence = [content, agreed]
            t.add(".")
            if rng.random() < 0.6:
                evidence.append(actor_ev)
            if heading_ev is not None and rng.random() < 0.5:
                evidence.append(heading_ev)
            statement = f"{actor[0].upper()}{actor[1:]} {verb} {clause.replace(chr(0x2002), ' ')}."
            out.append(
                {
                    "id": cid,
                    "dialogue": d,
                    "statement": statement,
                    "kind": kind,
                    "speaker": speaker,
                    "actor": actor,
                    "point": point or None,
                    "heading": headings[point - 1] if point else None,
                    "areas": areas,
                    "entities": entities,
                    "evidence": evidence,
                }
            )
        return out

    def statements(
        self, d: int, t: Text, chairs: dict[str, tuple[str, str]], pair: tuple[str, str]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        t.add("\n\n")
        out = []
        for _ in range(rng.randint(6, 12)):
            speaker, name = chairs[pair[rng.random() < 0.5]]
            t.add(" ")
            said = t.quote(f"{name} noted", role="attribution")
            t.add(" that ")
            words = f"{rng.choice(SUBJECTS)} {rng.choice(PREDICATES)}"
            entities = []
            if rng.random() < 0.1:
                entities = [rng.choice(self.common)["slug"]]
                words += " within the " + self.entity_name[entities[0]]
            content = t.quote(words)
            t.add(".")
            out.append(
                {
                    "id": self.next_id("statements"),
                    "dialogue": d,
                    "text": words[0].upper() + words[1:] + ".",
                    "speaker": speaker,
                    "areas": rng.sample(self.area_slugs, rng.randint(0, 1)),
                    "entities": entities,
                    "evidence": [content, said],
                }
            )
        return out

    def indicators(
        self,
        d: int,
        t: Text,
        chairs: dict[str, tuple[str, str]],
        pair: tuple[str, str],
        date: dt.date,
    ) -> list[dict[str, Any]]:
        rng = self.rng
        t.add("\n\n")
        out = []
        for n in range(rng.randint(2, 4)):
            speaker, name = chairs[pair[rng.random() < 0.5]]
            year = date.year - 1 - n
            billions = rng.randint(20, 400)
            t.add(" ")
            said = t.quote(f"{name} said", role="attribution")
            t.add(" that ")
            comparator = t.quote("nearly", field="comparator")
            t.add(" ")
            content = t.quote(f"{billions} billion US dollars of bilateral trade")
            t.add(" were recorded ")
            period = t.quote(f"in {year}", field="period_as_stated")
            t.add(".")
            out.append(
                {
                    "id": self.next_id("indicators"),
                    "dialogue": d,
                    "measure": f"Bilateral trade in {year}",
                    "countries": list(pair),
                    "value": float(billions) * 1e9,
                    "unit": "USD",
                    "comparator": "nearly",
                    "period_as_stated": f"in {year}",
                    "date_stated": date.isoformat(),
                    "stated_by": speaker,
                    "evidence": [content, comparator, period, said],
                }
            )
        return out

    def lines(self) -> Iterator[dict[str, Any]]:
        yield from self.header()
        for d in range(1, self.plan.dialogues + 1):
            yield from self.dialogue(d)


def info(n: int) -> dict[str, Any]:
    plan = Plan.of(n)
    return {
        "generator": GENERATOR_VERSION,
        "commitments": n,
        "dialogues": plan.dialogues,
        "series": plan.series,
        "rare_entity": RARE_ENTITY,
        "rare_mentions": 10,
        "search_term": SEARCH_TERM,
        "search_commitments": 5,
        "common_entity": COMMON_ENTITY,
        "middle_dialogue": plan.dialogues // 2 or 1,
    }


def write(n: int, path: Path) -> dict[str, Any]:
    """Write the dataset of `n` commitments to `path` (JSON Lines); returns what it holds."""
    gen = Generator(n)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    lines = 0
    with tmp.open("wb") as out:
        batch: list[bytes] = []
        for line in gen.lines():
            batch.append(orjson.dumps(line))
            if len(batch) >= 10_000:
                out.write(b"\n".join(batch) + b"\n")
                lines += len(batch)
                batch = []
        if batch:
            out.write(b"\n".join(batch) + b"\n")
            lines += len(batch)
    tmp.replace(path)
    meta = {**info(n), "lines": lines, **{f"{k}_count": v for k, v in gen.ids.items()}}
    path.with_suffix(path.suffix + ".meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def cached(n: int, folder: Path) -> tuple[Path, dict[str, Any]]:
    """The dataset of `n` commitments in `folder`, generated unless an up-to-date copy is there."""
    path = folder / f"bulk-{n}.jsonl"
    meta_path = path.with_suffix(path.suffix + ".meta.json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator") == GENERATOR_VERSION:
            return path, meta
    return path, write(n, path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.synth N FILE")
    print(json.dumps(write(int(sys.argv[1]), Path(sys.argv[2])), indent=1))
