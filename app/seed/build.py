"""Turn a verified seed into table rows and the documents clients read.

Documents are the public JSON of each resource, built once per load from the seed itself,
so a read is a lookup and every reader of one dataset version gets the same bytes.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel
from sqlmodel import SQLModel

from app import models as m
from app import schemas as s
from app.seed.format import EvidenceIn
from app.seed.verify import Seed, evidence_of

FACTS = ("participations", "context_events", "commitments", "statements", "indicators")
ENTITY_LISTS = ("commitments", "statements", "context_events")  # in an entity's document


def span_link(ev: EvidenceIn | m.Evidence, cited_url: str | None) -> str:
    source_id = ev.source if isinstance(ev, EvidenceIn) else ev.source_id
    if ev.start is not None and ev.end is not None:
        return f"/sources/{source_id}#char={ev.start},{ev.end}"
    return cited_url or f"/sources/{source_id}"


def paragraphs(text: str, excluded: Iterable[Any]) -> Iterator[tuple[int, int, str]]:
    """The text's paragraphs (split at blank lines) with their offsets, furniture left out."""
    for match in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]*)*", text):
        start, end = match.span()
        if match.group().strip() and not any(start < r.end and r.start < end for r in excluded):
            yield start, end, match.group()


class Builder:
    def __init__(self, seed: Seed, versions: dict[tuple[str, str], tuple[int, int]] | None = None):
        self.seed = seed
        self.versions = versions or {}  # (kind, key) -> (first_seen, last_changed)
        self.rows: list[SQLModel] = []
        self.docs: dict[tuple[str, str], BaseModel] = {}
        self.fact_links: dict[tuple[str, str], str] = {}  # (fact type, id) -> where it is served

    # Shared pieces
    def evidence(self, evs: Iterable[EvidenceIn]) -> list[s.EvidencePublic]:
        out = []
        for ev in evs:
            source = self.seed.sources[ev.source]
            out.append(
                s.EvidencePublic(
                    source_id=ev.source,
                    verification="citation" if source.file is None else "verbatim",
                    role=ev.role,
                    field=ev.field,
                    quote=ev.quote,
                    start=ev.start,
                    end=ev.end,
                    link=span_link(ev, source.url),
                    supports=ev.supports,
                )
            )
        return out

    def stamp(self, kind: str, key: Any) -> dict[str, int]:
        first, last = self.versions.get((kind, str(key)), (1, 1))
        return {"first_seen": first, "last_changed": last}

    def person(self, person_id: str | None) -> s.PersonRef | None:
        if person_id is None:
            return None
        p = self.seed.people[person_id]
        return s.PersonRef(id=p.id, name=p.name, country=p.country)

    def evidence_rows(self, fact_type: str, fact_id: Any, fact: Any, served_at: str) -> None:
        self.fact_links[(fact_type, str(fact_id))] = served_at
        for position, (path, ev) in enumerate(evidence_of(fact)):
            source = self.seed.sources[ev.source]
            field = ev.field if path == "evidence" else path.removesuffix(".evidence")
            self.rows.append(
                m.Evidence(
                    fact_type=fact_type,
                    fact_id=str(fact_id),
                    position=position,
                    field=field,
                    source_id=ev.source,
                    role=ev.role,
                    verification="citation" if source.file is None else "verbatim",
                    quote=ev.quote,
                    start=ev.start,
                    end=ev.end,
                    supports=ev.supports,
                )
            )

    # Facts
    def build(self) -> None:
        seed = self.seed
        self.vocabulary()
        facts = self.facts()
        by_dialogue: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for section, docs in facts.items():
            for key in sorted(docs):
                by_dialogue[docs[key].dialogue_id][section].append(docs[key])
        summaries = {d.id: self.dialogue(d, by_dialogue[d.id]) for d in seed.dialogues.values()}
        self.series_docs(summaries)
        self.area_and_country_docs(facts["commitments"], facts["participations"])
        self.people_docs(facts)
        self.entity_docs(facts)
        self.source_docs()
        self.search_entries(facts, summaries)

    def facts(self, order: Iterable[str] = FACTS) -> dict[str, dict[Any, Any]]:
        """Build every fact of the seed (its rows made section by section, in `order`): their
        documents, by section (in FACTS's order) and id."""
        makers = {
            "participations": self.participation,
            "context_events": self.context_event,
            "commitments": self.commitment,
            "statements": self.statement,
            "indicators": self.indicator,
        }
        sections = self.seed.sections
        built = {
            section: {fact.id: makers[section](fact) for fact in sections[section].values()}
            for section in order
        }
        return {section: built[section] for section in FACTS}

    def vocabulary(self) -> None:
        seed = self.seed
        for c in seed.countries.values():
            self.rows.append(m.Country(code=c.code, name=c.name))
        for a in seed.areas.values():
            self.rows.append(m.Area(slug=a.slug, label=a.label, description=a.description))
        for e in seed.entities.values():
            self.rows.append(
                m.Entity(
                    slug=e.slug,
                    name=e.name,
                    kind=e.kind,
                    aliases=list(e.aliases),
                    description=e.description,
                )
            )
        for sr in seed.series.values():
            self.rows.append(
                m.Series(
                    slug=sr.slug,
                    name=sr.name,
                    aliases=list(sr.aliases),
                    country_a=sr.countries[0],
                    country_b=sr.countries[1],
                    established=sr.established,
                )
            )
        for p in seed.people.values():
            self.rows.append(
                m.Person(id=p.id, name=p.name, aliases=list(p.aliases), country=p.country)
            )
        for src in seed.sources.values():
            text = seed.texts.get(src.id)
            kind = "citation" if src.file is None else "document"
            fields = src.model_dump(exclude={"file", "excluded"})
            self.rows.append(m.Source(**fields, kind=kind, text=text))
            for rng in src.excluded:
                self.rows.append(
                    m.SourceExclusion(
                        source_id=src.id, start=rng.start, end=rng.end, label=rng.label
                    )
                )

    def participation(self, p: Any) -> s.ParticipationPublic:
        self.rows.append(
            m.Participation(
                id=p.id,
                dialogue_id=p.dialogue,
                person_id=p.person,
                role=p.role,
                title=p.title,
                country=p.country,
            )
        )
        self.evidence_rows("participation", p.id, p, f"/dialogues/{p.dialogue}")
        person = self.person(p.person)
        assert person is not None
        return s.ParticipationPublic(
            **self.stamp("participation", p.id),
            id=p.id,
            dialogue_id=p.dialogue,
            person=person,
            role=p.role,
            title=p.title,
            country=p.country,
            evidence=self.evidence(p.evidence),
        )

    def context_event(self, e: Any) -> s.ContextEventPublic:
        fields = e.model_dump(exclude={"evidence", "dialogue", "entities"})
        self.rows.append(m.ContextEvent(**fields, dialogue_id=e.dialogue))
        self.mention_rows("context_event", e.id, e.entities)
        self.evidence_rows("context_event", e.id, e, f"/dialogues/{e.dialogue}")
        people = [self.person(pid) for pid in e.participants]
        return s.ContextEventPublic(
            **self.stamp("context_event", e.id),
            **{**fields, "participants": people},
            dialogue_id=e.dialogue,
            entities=list(e.entities),
            evidence=self.evidence(e.evidence),
        )

    def commitment(self, c: Any) -> s.CommitmentPublic:
        dialogue = self.seed.dialogues[c.dialogue]
        speaker = self.person(c.speaker)
        speaker_country = speaker.country if speaker else None
        countries = (
            sorted(dialogue.countries) if c.kind == "joint" or not speaker else [speaker.country]
        )
        narrator = self.narrator(c.evidence)
        self.rows.append(
            m.Commitment(
                id=c.id,
                dialogue_id=c.dialogue,
                statement=c.statement,
                kind=c.kind,
                speaker_id=c.speaker,
                speaker_country=speaker_country,
                narrator=narrator,
                actor=c.actor,
                point=c.point,
                heading=c.heading,
            )
        )
        self.rows += [m.CommitmentArea(commitment_id=c.id, area_slug=a) for a in c.areas]
        self.rows += [m.CommitmentCountry(commitment_id=c.id, country=cc) for cc in countries]
        self.mention_rows("commitment", c.id, c.entities)
        self.evidence_rows("commitment", c.id, c, f"/commitments/{c.id}")
        return s.CommitmentPublic(
            **self.stamp("commitment", c.id),
            id=c.id,
            dialogue_id=c.dialogue,
            statement=c.statement,
            kind=c.kind,
            speaker=speaker,
            speaker_country=speaker_country,
            narrator=narrator,
            actor=c.actor,
            countries=countries,
            point=c.point,
            heading=c.heading,
            areas=list(c.areas),
            entities=list(c.entities),
            evidence=self.evidence(c.evidence),
        )

    def narrator(self, evs: Iterable[EvidenceIn]) -> str:
        return next(self.seed.sources[ev.source].publisher for ev in evs)

    def mention_rows(self, fact_type: str, fact_id: Any, entities: Iterable[str]) -> None:
        for slug in entities:
            self.rows.append(m.Mention(fact_type=fact_type, fact_id=str(fact_id), entity_slug=slug))

    def statement(self, st: Any) -> s.StatementPublic:
        self.rows.append(
            m.Statement(
                id=st.id,
                dialogue_id=st.dialogue,
                text=st.text,
                speaker_id=st.speaker,
                areas=list(st.areas),
            )
        )
        self.mention_rows("statement", st.id, st.entities)
        self.evidence_rows("statement", st.id, st, f"/statements/{st.id}")
        return s.StatementPublic(
            **self.stamp("statement", st.id),
            id=st.id,
            dialogue_id=st.dialogue,
            text=st.text,
            speaker=self.person(st.speaker),
            areas=list(st.areas),
            entities=list(st.entities),
            evidence=self.evidence(st.evidence),
        )

    def indicator(self, i: Any) -> s.IndicatorPublic:
        fields = i.model_dump(exclude={"evidence", "dialogue", "countries"})
        self.rows.append(m.Indicator(**fields, dialogue_id=i.dialogue))
        self.rows += [m.IndicatorCountry(indicator_id=i.id, country=c) for c in i.countries]
        self.evidence_rows("indicator", i.id, i, f"/indicators/{i.id}")
        return s.IndicatorPublic(
            **self.stamp("indicator", i.id),
            **{**fields, "stated_by": self.person(i.stated_by)},
            dialogue_id=i.dialogue,
            countries=list(i.countries),
            evidence=self.evidence(i.evidence),
        )

    def dialogue(self, d: Any, facts: dict[str, list[Any]]) -> s.DialogueSummary:
        planned = d.planned_next
        self.rows.append(
            m.Dialogue(
                id=d.id,
                slug=d.slug,
                series_slug=d.series,
                edition=d.edition,
                title=d.title,
                date=d.date,
                city=d.city,
                host_country=d.host_country,
                country_a=d.countries[0],
                country_b=d.countries[1],
                departments_count=d.departments_count,
                departments_as_stated=d.departments_as_stated,
                gap_as_stated=d.gap_as_stated,
                previous_id=d.previous,
                planned_next_as_stated=planned.as_stated if planned else None,
                planned_next_host=planned.host_country if planned else None,
            )
        )
        self.rows += [
            m.DialogueAim(dialogue_id=d.id, position=n, text=aim.text)
            for n, aim in enumerate(d.aims)
        ]
        self.evidence_rows("dialogue", d.id, d, f"/dialogues/{d.id}")
        summary = s.DialogueSummary(
            **self.stamp("dialogue", d.id),
            id=d.id,
            slug=d.slug,
            series=d.series,
            edition=d.edition,
            title=d.title,
            date=d.date,
            city=d.city,
            host_country=d.host_country,
            countries=list(d.countries),
        )
        source_ids = sorted(
            {ev.source for _, ev in evidence_of(d)}
            | {ev.source_id for docs in facts.values() for fact in docs for ev in fact.evidence}
        )
        detail = s.DialogueDetail(
            **summary.model_dump(),
            departments_count=d.departments_count,
            departments_as_stated=d.departments_as_stated,
            gap_as_stated=d.gap_as_stated,
            previous_id=d.previous,
            aims=[s.AimPublic(text=a.text, evidence=self.evidence(a.evidence)) for a in d.aims],
            planned_next=s.PlannedEditionPublic(
                as_stated=planned.as_stated,
                host_country=planned.host_country,
                evidence=self.evidence(planned.evidence),
            )
            if planned
            else None,
            participations=facts["participations"],
            context_events=facts["context_events"],
            commitments=facts["commitments"],
            statements=facts["statements"],
            indicators=facts["indicators"],
            sources=[self.source_ref(sid) for sid in source_ids],
            evidence=self.evidence(d.evidence),
        )
        self.docs[("dialogue", str(d.id))] = detail
        self.docs[("dialogue_summary", str(d.id))] = summary
        for section, docs in facts.items():
            kind = section.removesuffix("s")
            for doc in docs:
                self.docs[(kind, str(doc.id))] = doc
        return summary

    def area_and_country_docs(
        self, commitments: dict[int, Any], participations: dict[int, Any]
    ) -> None:
        seed = self.seed
        for a in seed.areas.values():
            count = sum(a.slug in c.areas for c in commitments.values())
            self.docs[("area", a.slug)] = s.AreaPublic(
                **self.stamp("area", a.slug),
                slug=a.slug,
                label=a.label,
                description=a.description,
                commitments=count,
            )
        for c in seed.countries.values():
            self.docs[("country", c.code)] = s.CountryPublic(
                **self.stamp("country", c.code),
                code=c.code,
                name=c.name,
                dialogues=sum(c.code in d.countries for d in seed.dialogues.values()),
                commitments=sum(c.code in doc.countries for doc in commitments.values()),
                people=sum(p.country == c.code for p in seed.people.values()),
            )

    def source_ref(self, source_id: str) -> s.SourceRef:
        src = self.seed.sources[source_id]
        kind = "citation" if src.file is None else "document"
        return s.SourceRef(
            id=src.id, title=src.title, publisher=src.publisher, url=src.url, kind=kind
        )

    def series_docs(self, summaries: dict[int, s.DialogueSummary]) -> None:
        for sr in self.seed.series.values():
            editions = sorted(
                (d for d in summaries.values() if d.series == sr.slug),
                key=lambda d: (d.edition, d.id),
            )
            self.docs[("series", sr.slug)] = s.SeriesPublic(
                **self.stamp("series", sr.slug),
                slug=sr.slug,
                name=sr.name,
                aliases=list(sr.aliases),
                countries=list(sr.countries),
                established=sr.established,
                editions=editions,
                evidence=self.evidence(sr.evidence),
            )
            self.evidence_rows("series", sr.slug, sr, f"/series/{sr.slug}")

    def people_docs(self, facts: dict[str, dict[Any, Any]]) -> None:
        for p in self.seed.people.values():
            ref = self.person(p.id)

            def of(section: str, attr: str, ref: Any = ref) -> list[Any]:
                docs = facts[section]
                return [docs[k] for k in sorted(docs) if getattr(docs[k], attr) == ref]

            self.docs[("person", p.id)] = s.PersonPublic(
                **self.stamp("person", p.id),
                id=p.id,
                name=p.name,
                aliases=list(p.aliases),
                country=p.country,
                participations=of("participations", "person"),
                commitments=of("commitments", "speaker"),
                statements=of("statements", "speaker"),
                indicators=of("indicators", "stated_by"),
            )

    def entity_docs(self, facts: dict[str, dict[Any, Any]]) -> None:
        for e in self.seed.entities.values():
            naming = {
                section: [
                    doc for _, doc in sorted(facts[section].items()) if e.slug in doc.entities
                ]
                for section in ENTITY_LISTS
            }
            self.docs[("entity", e.slug)] = s.EntityPublic(
                **self.stamp("entity", e.slug),
                slug=e.slug,
                name=e.name,
                kind=e.kind,
                aliases=list(e.aliases),
                description=e.description,
                **{section: docs[: s.ENTITY_FACTS] for section, docs in naming.items()},
                totals=s.EntityTotals(**{section: len(docs) for section, docs in naming.items()}),
            )

    def search_entries(self, facts: dict[str, dict[Any, Any]], dialogues: dict[int, Any]) -> None:
        """What `/search` looks through: each fact's words and each paragraph of source text."""
        entries: list[tuple[str, str, str, str, str]] = []

        def quotes(fact: Any) -> list[str]:
            return [ev.quote for ev in fact.evidence if ev.quote and ev.role == "content"]

        for c in facts["commitments"].values():
            body = " ".join(filter(None, [c.statement, c.heading, *c.areas, *c.entities]))
            entries.append(("commitment", str(c.id), c.statement, body, f"/commitments/{c.id}"))
        for st in facts["statements"].values():
            body = " ".join([st.text, *quotes(st)])
            entries.append(("statement", str(st.id), st.text, body, f"/statements/{st.id}"))
        for i in facts["indicators"].values():
            body = " ".join([i.measure, i.unit, *quotes(i)])
            entries.append(("indicator", str(i.id), i.measure, body, f"/indicators/{i.id}"))
        for d in self.seed.dialogues.values():
            aims = [a.text for a in d.aims]
            body = " ".join([d.title, d.city, d.date.isoformat(), *aims])
            entries.append(("dialogue", str(d.id), d.title, body, f"/dialogues/{d.id}"))
        for src in self.seed.sources.values():
            for start, end, paragraph in paragraphs(self.seed.texts.get(src.id, ""), src.excluded):
                key = f"{src.id}#char={start},{end}"
                entries.append(("source", key, src.title, paragraph, f"/sources/{key}"))
        for n, (kind, key, title, body, link) in enumerate(entries, start=1):
            self.rows.append(
                m.SearchEntry(id=n, kind=kind, key=key, title=title, body=body, link=link)
            )

    def source_docs(self) -> None:
        evidence_by_source: dict[str, list[m.Evidence]] = defaultdict(list)
        for row in self.rows:
            if isinstance(row, m.Evidence):
                evidence_by_source[row.source_id].append(row)
        for src in self.seed.sources.values():
            text = self.seed.texts.get(src.id)
            summary = s.SourcePublic(
                **self.stamp("source", src.id),
                **src.model_dump(exclude={"file", "excluded"}),
                kind="citation" if src.file is None else "document",
                length=len(text) if text is not None else None,
            )
            spans = sorted(
                evidence_by_source[src.id],
                key=lambda e: (e.start or 0, e.end or 0, e.fact_type, e.fact_id),
            )
            self.docs[("source_summary", src.id)] = summary
            self.docs[("source", src.id)] = s.SourceDetail(
                **summary.model_dump(),
                text=text,
                excluded=[s.ExcludedRange(**r.model_dump()) for r in src.excluded],
                evidence=[
                    s.SourceSpan(
                        fact_type=e.fact_type,
                        fact_id=e.fact_id,
                        fact=self.fact_links[(e.fact_type, e.fact_id)],
                        role=e.role,
                        field=e.field,
                        quote=e.quote,
                        start=e.start,
                        end=e.end,
                        link=span_link(e, src.url),
                        supports=e.supports,
                    )
                    for e in spans
                ],
            )
