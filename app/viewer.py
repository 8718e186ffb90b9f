"""The provenance viewer: a source as an HTML page, every evidence span marked and linked.

`GET /sources/{id}` answers with this page when the client prefers text/html (a browser);
API clients keep the JSON. The page is built from the same stored JSON document, so both
representations say the same thing. Plain HTML and inline CSS: no script, no external asset.

The text is cut at every span boundary. Spans with the same offsets form one marked element
(`id="span-START-END"`, the facts it supports in `data-facts`); an element inside another is
nested; when two spans cross, the later one is split into fragments that share `data-span`.
The text inside marks is linked to the fact of the innermost span, or, when that span
supports several facts served at different places, to the list of those facts on the page.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from app.schemas import ExcludedRange, SourceDetail, SourceSpan

TEMPLATES = Path(__file__).resolve().parent / "templates"
HTML = "text/html"

# The side list's sections, in this order; any other fact type follows under its own name.
KINDS: dict[str, tuple[str, str]] = {
    "commitment": ("Commitments", "Commitment"),
    "indicator": ("Indicators", "Indicator"),
    "participation": ("Participations", "Participation"),
    "context_event": ("Context events", "Context event"),
    "statement": ("Statements", "Statement"),
    "dialogue": ("Dialogue fields", "Dialogue"),
    "series": ("Series fields", "Series"),
}
EXCERPT = 160


def excerpt(text: str | None, limit: int = EXCERPT) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fact_key(span: SourceSpan) -> str:
    return f"{span.fact_type}:{span.fact_id}"


def _natural(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


# The marked ranges


@dataclass
class Marked:
    """One distinct range of the text: an evidence span (of one or more facts) or furniture."""

    start: int
    end: int
    spans: list[SourceSpan] = field(default_factory=list)
    furniture: ExcludedRange | None = None

    @property
    def key(self) -> str:
        return f"{self.start}-{self.end}"

    @property
    def is_evidence(self) -> bool:
        return self.furniture is None

    @property
    def anchor(self) -> str:
        return f"span-{self.key}" if self.is_evidence else f"excluded-{self.key}"

    @property
    def facts(self) -> list[str]:
        return list(dict.fromkeys(fact_key(s) for s in self.spans))

    @property
    def fact_urls(self) -> list[str]:
        return list(dict.fromkeys(s.fact for s in self.spans))

    @property
    def shared(self) -> bool:
        """Supports facts served at more than one place: its link is the list of them."""
        return len(self.fact_urls) > 1

    @property
    def href(self) -> str | None:
        if self.shared:
            return f"#facts-{self.key}"
        return self.fact_urls[0] if self.fact_urls else None

    @property
    def roles(self) -> list[str]:
        return sorted({s.role for s in self.spans})

    @property
    def css_class(self) -> str:
        if self.furniture is not None:
            return "furniture"
        return " ".join(["evidence", *self.roles])

    @property
    def title(self) -> str:
        if self.furniture is not None:
            return f"Excluded from evidence: {self.furniture.label}"
        supports = ", ".join(
            f"{s.fact_type.replace('_', ' ')} {s.fact_id}"
            + (f" ({s.field})" if s.field else f" ({s.role})")
            for s in self.spans
        )
        return f"Evidence for {supports}"


@dataclass(frozen=True)
class Token:
    """One piece of the marked-up text, in document order (the template writes them out)."""

    kind: str  # "open", "close" or "text"
    mark: Marked | None = None
    first: bool = False  # an "open" of a range's first fragment: it carries the id
    text: str = ""
    href: str | None = None


def marked_ranges(source: SourceDetail) -> list[Marked]:
    """Evidence grouped by offsets, plus the furniture; empty and out-of-text ranges dropped."""
    length = len(source.text or "")
    groups: dict[tuple[int, int], Marked] = {}
    for span in source.evidence:
        if span.start is None or span.end is None:
            continue
        start, end = max(0, span.start), min(length, span.end)
        if start < end:
            groups.setdefault((start, end), Marked(start, end)).spans.append(span)
    furniture = [
        Marked(max(0, r.start), min(length, r.end), furniture=r)
        for r in source.excluded
        if max(0, r.start) < min(length, r.end)
    ]
    return [*groups.values(), *furniture]


def tokens(text: str, marks: Iterable[Marked]) -> list[Token]:
    """The text cut at every boundary, with properly nested opens and closes.

    Ranges starting together open longest first. A range that ends while ranges opened
    inside it are still open closes them, closes, and reopens them as further fragments.
    """
    marks = sorted(marks, key=lambda m: (m.start, -m.end, m.is_evidence))
    starting: dict[int, list[Marked]] = defaultdict(list)
    for m in marks:
        starting[m.start].append(m)
    cuts = sorted({0, len(text), *(m.start for m in marks), *(m.end for m in marks)})
    out: list[Token] = []
    stack: list[Marked] = []
    for i, pos in enumerate(cuts):
        ending = [depth for depth, m in enumerate(stack) if m.end <= pos]
        if ending:
            lowest = min(ending)
            popped = stack[lowest:]
            del stack[lowest:]
            out.extend(Token("close", m) for m in reversed(popped))
            for m in popped:
                if m.end > pos:
                    stack.append(m)
                    out.append(Token("open", m, first=False))
        for m in starting.get(pos, []):
            stack.append(m)
            out.append(Token("open", m, first=True))
        if i + 1 < len(cuts):
            chunk = text[pos : cuts[i + 1]]
            innermost = next((m for m in reversed(stack) if m.is_evidence), None)
            inside_furniture = any(not m.is_evidence for m in stack)
            href = innermost.href if innermost and not inside_furniture else None
            out.append(Token("text", text=chunk, href=href))
    out.extend(Token("close", m) for m in reversed(stack))
    return out


# The side list


@dataclass
class Fact:
    fact_type: str
    fact_id: str
    url: str
    spans: list[SourceSpan] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"fact-{self.fact_type}-{self.fact_id}"

    @property
    def name(self) -> str:
        singular = KINDS.get(self.fact_type, ("", self.fact_type.replace("_", " ").capitalize()))
        return f"{singular[1]} {self.fact_id}"

    @property
    def summary(self) -> str:
        """The words that state the fact: its content span without a field, else the first."""
        main = next(
            (s for s in self.spans if s.role == "content" and s.field is None and s.quote),
            next((s for s in self.spans if s.quote), None),
        )
        return excerpt(main.quote) if main else excerpt(self.spans[0].supports)


@dataclass
class Kind:
    fact_type: str
    label: str
    facts: list[Fact]

    @property
    def anchor(self) -> str:
        return f"kind-{self.fact_type}"


def facts_by_kind(source: SourceDetail) -> list[Kind]:
    facts: dict[tuple[str, str], Fact] = {}
    for span in source.evidence:
        fact = facts.setdefault(
            (span.fact_type, span.fact_id), Fact(span.fact_type, span.fact_id, span.fact)
        )
        fact.spans.append(span)
    types = sorted(
        {t for t, _ in facts},
        key=lambda t: (list(KINDS).index(t) if t in KINDS else len(KINDS), t),
    )
    kinds = []
    for fact_type in types:
        label = KINDS.get(fact_type, (fact_type.replace("_", " ").capitalize() + "s", ""))[0]
        members = sorted(
            (f for (t, _), f in facts.items() if t == fact_type),
            key=lambda f: _natural(f.fact_id),
        )
        kinds.append(Kind(fact_type, label, members))
    return kinds


# Rendering


def is_web_url(value: object) -> bool:
    """Only http(s) addresses become links: no `javascript:` or `data:` from a record."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def _text(value: str) -> Markup:
    """Escape document text; a carriage return goes out as a reference so parsing keeps it."""
    return Markup(str(escape(value)).replace("\r", "&#13;"))


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["text"] = _text
environment.filters["excerpt"] = excerpt
environment.tests["web_url"] = is_web_url


def render_source(source: SourceDetail) -> str:
    text = source.text or ""
    marks = marked_ranges(source)
    evidence = sorted((m for m in marks if m.is_evidence), key=lambda m: (m.start, -m.end))
    return environment.get_template("source.html").render(
        source=source,
        tokens=tokens(text, marks) if source.text is not None else [],
        kinds=facts_by_kind(source),
        shared=[m for m in evidence if m.shared],
        spans_marked=len(evidence),
        citations=[s for s in source.evidence if s.start is None],
    )
