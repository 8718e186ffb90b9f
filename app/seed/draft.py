"""Draft a seed file from a foreign-ministry readout in plain text, by rules: no network, no model.

`python -m app.seed draft readout.txt > draft.yaml` proposes the facts a curator records (the
dialogue, who co-chaired it, the figures, the statements of intent) in the loader's own format,
each with the exact words of the readout at their code-point offsets. The loader accepts the
draft as it is, so the curator's work is to check, correct and delete, never to retype a quote.

The rules are written for a genre, not for one document: a ministry's readout of a bilateral
dialogue as republished on the web. Such a readout opens with the date, the co-chairs and the
edition ("On March 22, 2025, ... co-chaired the sixth ... Dialogue in Tokyo"), reports speech
("X said"), numbers its points ("First, ..."), lists intents after "should" or "agreed to", states
figures with a comparator, a scale and a currency, and sits inside a republisher's page furniture
(banners, section titles, newsletter sign-ups), which is declared as `excluded` and never quoted.
Areas come from the vocabulary's own labels and descriptions plus a few keyword rules; people
already in the vocabulary are reused by name or alias.
"""

import argparse
import datetime as dt
import hashlib
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from app.seed.format import (
    AreaIn,
    CommitmentIn,
    CountryIn,
    DialogueIn,
    EntityIn,
    EvidenceIn,
    ExcludedRangeIn,
    IndicatorIn,
    ParticipationIn,
    PersonIn,
    PlannedEditionIn,
    SeedFile,
    SeriesIn,
    SourceIn,
    TextWithEvidence,
)
from app.seed.score import report, score
from app.seed.verify import SeedError, read_seed
from app.settings import get_settings

EvidenceRole = Literal["content", "attribution"]
ParticipationRole = Literal["co-chair", "participant", "attendee"]
DEFAULT_FIRST_ID = 9001  # far above curated ids, so a draft can sit next to the curated seed


def _words(text: str) -> frozenset[str]:
    """A set of words written as one string, for the long word lists of the rules below."""
    return frozenset(text.split())


def _ordered(text: str) -> list[str]:
    return text.split()


class DraftError(Exception):
    """The readout lacks something the draft cannot do without (the edition, the two countries)."""


# ---------------------------------------------------------------------------------------------
# Rules of the genre: words, not sentences of any one readout.
# ---------------------------------------------------------------------------------------------

ORDINALS = {
    word: n
    for n, word in enumerate(
        _ordered(
            "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
        )
        + _ordered(
            "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
        ),
        start=1,
    )
}
POINT_WORDS = {**{f"{w}ly": n for w, n in ORDINALS.items() if n <= 5}, **ORDINALS}
NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        _ordered("zero one two three four five six seven eight nine ten eleven twelve thirteen")
        + _ordered("fourteen fifteen sixteen seventeen eighteen nineteen twenty")
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
MONTHS = {
    m: n
    for n, m in enumerate(
        _ordered(
            "January February March April May June July August September October November December"
        ),
        start=1,
    )
}
SCALES = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
CURRENCIES = [  # (how the text says it, ISO 4217 code); longest first where they overlap
    (r"U\.S\.\s+dollars|US\s+dollars|American\s+dollars|dollars|USD", "USD"),
    (r"euros?|EUR", "EUR"),
    (r"yuan|renminbi|RMB|CNY", "CNY"),
    (r"yen|JPY", "JPY"),
    (r"pounds(?:\s+sterling)?|GBP", "GBP"),
    (r"won|KRW", "KRW"),
    (r"rubles|roubles|RUB", "RUB"),
    (r"rupees|INR", "INR"),
]
CURRENCY_SIGNS = {"US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY"}
COMPARATORS = (
    "more than|over|nearly|almost|about|around|approximately|roughly|some|at least|up to|"
    "less than|fewer than|close to|exceeding|above|below|under"
)
# (code, name, adjective, other names, cities): enough of the world to read an opening sentence.
COUNTRY_TABLE: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("CN", "China", "Chinese", ("People's Republic of China", "PRC"), ("Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Tianjin", "Xiamen", "Hangzhou")),
    ("JP", "Japan", "Japanese", (), ("Tokyo", "Osaka", "Kyoto", "Nagoya", "Yokohama", "Hiroshima", "Kobe")),
    ("KR", "Republic of Korea", "Korean", ("ROK", "South Korea", "Korea"), ("Seoul", "Busan", "Incheon")),
    ("US", "United States", "American", ("United States of America", "U.S.", "USA"), ("Washington", "New York")),
    ("DE", "Germany", "German", ("Federal Republic of Germany",), ("Berlin", "Bonn", "Munich", "Hamburg", "Frankfurt")),
    ("FR", "France", "French", ("French Republic",), ("Paris", "Lyon", "Marseille", "Strasbourg")),
    ("GB", "United Kingdom", "British", ("UK", "U.K.", "Britain", "Great Britain"), ("London", "Edinburgh")),
    ("RU", "Russia", "Russian", ("Russian Federation",), ("Moscow", "Saint Petersburg")),
    ("IN", "India", "Indian", (), ("New Delhi", "Delhi", "Mumbai")),
    ("IT", "Italy", "Italian", (), ("Rome", "Milan")),
    ("ES", "Spain", "Spanish", (), ("Madrid", "Barcelona")),
    ("AU", "Australia", "Australian", (), ("Canberra", "Sydney", "Melbourne")),
    ("CA", "Canada", "Canadian", (), ("Ottawa", "Toronto")),
    ("BR", "Brazil", "Brazilian", (), ("Brasilia", "Brasília", "Rio de Janeiro")),
    ("ZA", "South Africa", "South African", (), ("Pretoria", "Johannesburg", "Cape Town")),
    ("ID", "Indonesia", "Indonesian", (), ("Jakarta",)),
    ("VN", "Viet Nam", "Vietnamese", ("Vietnam",), ("Hanoi", "Ho Chi Minh City")),
    ("SG", "Singapore", "Singaporean", (), ("Singapore",)),
    ("MY", "Malaysia", "Malaysian", (), ("Kuala Lumpur",)),
    ("TH", "Thailand", "Thai", (), ("Bangkok",)),
    ("PH", "Philippines", "Philippine", (), ("Manila",)),
    ("PK", "Pakistan", "Pakistani", (), ("Islamabad",)),
    ("SA", "Saudi Arabia", "Saudi", (), ("Riyadh", "Jeddah")),
    ("AE", "United Arab Emirates", "Emirati", ("UAE",), ("Abu Dhabi", "Dubai")),
    ("TR", "Türkiye", "Turkish", ("Turkey",), ("Ankara", "Istanbul")),
    ("EG", "Egypt", "Egyptian", (), ("Cairo",)),
    ("NG", "Nigeria", "Nigerian", (), ("Abuja", "Lagos")),
    ("MX", "Mexico", "Mexican", (), ("Mexico City",)),
    ("AR", "Argentina", "Argentine", (), ("Buenos Aires",)),
    ("NZ", "New Zealand", "New Zealand", (), ("Wellington", "Auckland")),
    ("NL", "Netherlands", "Dutch", (), ("Amsterdam", "The Hague")),
    ("CH", "Switzerland", "Swiss", (), ("Bern", "Geneva", "Zurich")),
    ("PL", "Poland", "Polish", (), ("Warsaw",)),
    ("UA", "Ukraine", "Ukrainian", (), ("Kyiv",)),
    ("KZ", "Kazakhstan", "Kazakh", (), ("Astana", "Almaty")),
    ("MN", "Mongolia", "Mongolian", (), ("Ulaanbaatar",)),
]  # fmt: skip

# Page furniture of republishing sites: (pattern, label). Matched per line, case-insensitively.
FURNITURE = [
    (r"donat|charit|fundrais|\badvert|sponsored", "republisher's banner"),
    (r"newsletter|mailing list|subscribe|sign[ -]?up", "republisher's newsletter sign-up"),
    (r"^(share|print|e-?mail this|tweet|follow us)\b", "republisher's sharing links"),
    (r"copyright|©|all rights reserved|privacy policy|terms of (use|service)", "republisher's footer"),
    (r"^(home|back to top|related( articles| stories)?|read more|more news|top stories)\b", "republisher's navigation"),
]  # fmt: skip
PUBLISHER = re.compile(
    r"Ministry of Foreign Affairs|Ministry for Europe and Foreign Affairs|Foreign Ministry|"
    r"Foreign Office|Department of State|Ministry of External Affairs|Prime Minister's Office|"
    r"Embassy of|Government of",
    re.IGNORECASE,
)
DATELINE = re.compile(r"^(?:Updated|Published|Posted|Released|Date)\s*:\s*(?P<when>.+?)\s*$")
DIALOGUE_NOUNS = (
    r"Dialogue|Consultations?|Talks|Meeting|Forum|Commission|Committee|Summit|Conference|"
    r"Roundtable|Mechanism"
)
ROLE_VERBS: dict[str, ParticipationRole] = {
    "co-chaired": "co-chair",
    "co-chair": "co-chair",
    "co-hosted": "co-chair",
    "jointly chaired": "co-chair",
    "chaired": "co-chair",
    "attended": "attendee",
    "held": "participant",
    "met": "participant",
}
SAY_VERBS = (
    r"said|says|noted|stressed|emphasi[sz]ed|pointed\s+out|stated|added|expressed|proposed|"
    r"underlined|highlighted|remarked|hoped|urged|believed|called\s+for"
)
# Words of official titles: a capitalised word among them belongs to a title, not to a name.
TITLE_WORDS = _words(
    """member political bureau cpc central committee standing foreign minister ministers affairs
    state councilor councillor vice premier president prime secretary general deputy director
    chancellor federal economy economic finance financial trade commerce industry europe european
    ambassador national people's congress chairman chairwoman chair council development reform
    commission commissioner special envoy representative head office department international
    cooperation senior parliamentary assistant under executive governor mayor cabinet chief
    adviser advisor security defense defence investment planning energy climate environment
    agriculture health education science technology digital transport labour labor justice
    interior home treasury counselor counsellor action protection affairs administrator"""
)
TITLE_HEADS = _words(
    """minister secretary president premier councilor councillor chancellor ambassador director
    chairman chairwoman chair commissioner governor mayor envoy representative head member
    adviser advisor counselor counsellor administrator"""
)
NAME_PARTICLES = {"von", "van", "der", "den", "de", "da", "di", "du", "la", "le", "bin", "al"}

# Verbs that open an intent in a list after "should" (base form), and adverbs that may precede.
VERBS = _words(
    """abide accelerate accommodate achieve address adhere advance advocate align avoid bolster
    boost bring broaden build carry cement champion combat commit complete comply conclude
    consolidate continue contribute cooperate coordinate create cultivate deepen demonstrate
    develop elevate eliminate encourage enhance enrich ensure establish expand expedite explore
    facilitate fight foster harness help hold implement improve increase inject intensify invite
    join keep launch leverage lift lower maintain make narrow negotiate nurture oppose optimize
    participate pool practice practise promote protect provide pursue push reduce refrain
    reinforce reject remove resist resolve respect restore resume revitalize safeguard scale seek
    seize set share sign simplify speed stabilize step streamline strengthen strive support
    sustain tackle take tap train treat unlock upgrade uphold use utilize value welcome widen win
    work"""
)
ADVERBS = _words(
    """further jointly also actively continuously better firmly effectively steadily vigorously
    earnestly constantly fully properly together still"""
)
# Verbs that are just as often nouns or adjectives: never split "X and <word> Y" at them.
AMBIGUOUS_VERBS = _words(
    """support supply trade work exchange use access increase advance practice practise help
    respect share value set step open review train welcome win scale speed lift tap pool push
    upgrade hold fight combat sign"""
)
# Past-tense verbs that report what the two sides did together at the dialogue.
JOINT_VERBS = _words(
    """had held exchanged made reached signed conducted discussed reviewed adopted issued launched
    decided"""
)
OUTCOME_PARTICIPLES = {"reaching", "achieving", "signing", "producing", "concluding", "adopting"}
TRIGGER = re.compile(
    r"\b(?:should|shall|must|will(?:\s+continue\s+to)?|needs?\s+to|"
    r"(?:are|is|stand|stands)\s+(?:ready|willing|encouraged|committed|determined)\s+to|"
    r"stand\s+ready\s+to|agreed\s+to|agree\s+to|decided\s+to|pledged\s+to|vowed\s+to)\b"
)
NEXT_EDITION = re.compile(
    r"hold\s+the\s+(?:next|"
    + "|".join(ORDINALS)
    + r")\b.*?\b(?:round|session|edition|"
    + DIALOGUE_NOUNS
    + r")\b",
    re.IGNORECASE,
)
JOINT_TRIGGERS = re.compile(r"^(?:agreed|agree|decided|pledged|vowed)\b")
# Agreements reported from another meeting are context, not the dialogue's own outcome.
PAST_CONTEXT = re.compile(
    r"\b(?:last\s+(?:year|month|week)|previous(?:ly)?|ago|met\s+in|earlier\s+this)\b", re.I
)
PURPOSE_START = re.compile(
    r"^(?:so\s+as\s+to|in\s+order\s+to|with\s+a\s+view\s+to|thereby|thus|which|so\s+that)\b", re.I
)
ATTENDANCE_NOUNS = r"(?:government\s+)?(?:departments|ministries|agencies)"
STOPWORDS = _words(
    """a an the and or of in on for to with by at from as is are be its their this that these
    those both two sides side countries country each other all more new between into over"""
)
# Keyword rules for area slugs, applied only to slugs the vocabulary has.
AREA_KEYWORDS: dict[str, tuple[str, ...]] = {
    "economic-cooperation": ("economic cooperation", "economic and trade", "win-win", "growth drivers"),
    "bilateral-relations": ("understanding", "differences", "political relations", "relationship", "mutual trust"),
    "global-economy": ("global economy", "globalization", "protectionism", "world economy", "responsibilit"),
    "ai": ("artificial intelligence",),
    "digital": ("digital",),
    "green": ("green", "energy conservation", "environmental", "ecological", "climate", "renewable", "hydrogen", "carbon"),
    "health": ("medical", "health"),
    "ageing": ("silver economy", "elderly", "ageing", "aging"),
    "trade": ("trade",),
    "investment": ("investment",),
    "supply-chains": ("supply chain", "industrial chain", "industrial and supply"),
    "market-access": ("market access", "discriminatory", "single market"),
    "economic-security": ("economic security",),
    "third-party-markets": ("third-party market", "third-country market"),
    "global-south": ("global south", "developing countries"),
    "subnational": ("sub-national", "subnational", "local government", "provinces", "prefectures"),
    "expos": ("expo",),
    "business-dialogue": ("government-business", "business community"),
    "regional-trade": ("free trade agreement", "free trade area", "rcep", "fta"),
    "multilateral-trade": ("multilateral", "wto"),
    "people-to-people": ("people-to-people", "cultural", "tourism", "youth", "students"),
    "macro-policy": ("macro",),
    "regional-cooperation": ("asian", "regional", "openness", "inclusiveness"),
    "dialogue-mechanisms": ("dialogue", "mechanism", "consultation"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Spans of the text.
# ---------------------------------------------------------------------------------------------

TRIM_LEAD = "\"“‘',;:"
TRIM_TRAIL = "\"”’',;:."


@dataclass(frozen=True)
class Span:
    """A slice of the source: `text` is exactly source[start:end], so it can be quoted as is."""

    start: int
    end: int
    text: str

    @property
    def plain(self) -> str:
        """The words with ordinary spaces, for the fact's own text fields."""
        return norm(self.text)


def norm(text: str) -> str:
    """Collapse every kind of whitespace (the sources use en spaces) into single spaces."""
    return " ".join(text.split())


def span_of(text: str, start: int, end: int) -> Span:
    """The slice trimmed of surrounding whitespace and punctuation: quotes start and end on words."""
    while start < end and (text[start].isspace() or text[start] in TRIM_LEAD):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in TRIM_TRAIL):
        if text[end - 1] == "." and _ends_with_abbreviation(text[start:end]):
            break
        end -= 1
    return Span(start, end, text[start:end])


def _ends_with_abbreviation(text: str) -> bool:
    return bool(re.search(r"(?:\b[A-Z]\.){2,}$", text))


def flex(phrase: str) -> str:
    """A regex for a phrase whose spaces may be any whitespace, en spaces included."""
    return r"\s+".join(re.escape(word) for word in phrase.split())


def word_regex(word: str) -> str:
    """`flex(word)`, case-sensitive for an acronym ('ROK', 'US') so that 'us' is not a country."""
    return f"(?-i:{flex(word)})" if word.isupper() else flex(word)


def slugify(text: str) -> str:
    """An ASCII slug ("Jean-Noël Barrot" -> "jean-noel-barrot") for ids the vocabulary lacks."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def number_value(token: str) -> float | None:
    """'300', '1,200', '1.5' or 'fifteen' as a number; None for anything else."""
    token = token.lower()
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


NUMBER = r"\d+(?:[.,]\d+)*|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))


# ---------------------------------------------------------------------------------------------
# Layout: page furniture, header, body paragraphs and sentences.
# ---------------------------------------------------------------------------------------------


@dataclass
class Layout:
    headline: Span | None = None
    publisher: str | None = None
    republisher: str | None = None
    dateline: Span | None = None  # what follows "Updated:"
    paragraphs: list[Span] = field(default_factory=list)
    excluded: list[ExcludedRangeIn] = field(default_factory=list)


def lines_of(text: str) -> list[Span]:
    """Every non-blank line, trimmed, with its offsets (a CR of a CRLF ending is left out)."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        start, end = m.start() + _lead_ws(m.group()), m.end() - _trail_ws(m.group())
        if start < end:
            out.append(Span(start, end, text[start:end]))
    return out


def _lead_ws(s: str) -> int:
    return len(s) - len(s.lstrip())


def _trail_ws(s: str) -> int:
    return len(s) - len(s.rstrip())


def furniture_label(line: str) -> str | None:
    """Why a line is page furniture of the republishing site, or None when it is not."""
    for pattern, label in FURNITURE:
        if re.search(pattern, line, re.IGNORECASE):
            return label
    return None


def is_prose(line: str) -> bool:
    """A line of the readout's body: long, or a sentence of several words."""
    words = len(line.split())
    return len(line) >= 120 or (words >= 6 and line.rstrip()[-1:] in '.!?"”')


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def read_layout(text: str) -> Layout:
    """Split the page into header, body and furniture.

    The body starts at the first block of prose. Above it, the headline is the line sharing most
    words with the opening paragraph; everything above the headline belongs to the republisher
    (banner, section title, a source header), and so do lines anywhere that match FURNITURE.
    """
    layout = Layout()
    lines = blocks_of(text, lines_of(text))
    furniture = {i: furniture_label(line.text) for i, line in enumerate(lines)}
    prose = [i for i, line in enumerate(lines) if not furniture[i] and is_prose(line.text)]
    if not prose:
        raise DraftError("no prose found: is this a readout?")
    first, last = prose[0], prose[-1]
    layout.paragraphs = [lines[i] for i in range(first, last + 1) if not furniture[i]]
    header = list(range(first))
    candidates = [
        i
        for i in header
        if not furniture[i]
        and not DATELINE.match(lines[i].text)
        and not PUBLISHER.search(lines[i].text)
    ]
    opening = content_words(lines[first].text)
    scored = [(len(content_words(lines[i].text) & opening), -i, i) for i in candidates]
    headline = max(scored)[2] if scored and max(scored)[0] > 0 else None
    if headline is not None:
        layout.headline = lines[headline]
        for i in header:
            if i < headline and not furniture[i]:
                furniture[i] = (
                    "republisher's source header above the headline"
                    if PUBLISHER.search(lines[i].text)
                    else "republisher's section title"
                )
    for i in header:
        dated = DATELINE.match(lines[i].text)
        if dated and not furniture[i]:
            start = lines[i].start + dated.start("when")
            layout.dateline = span_of(text, start, lines[i].start + dated.end("when"))
    publishers = [lines[i].text for i in header if PUBLISHER.search(lines[i].text)]
    if publishers:
        after = [lines[i].text for i in header if headline is not None and i > headline]
        chosen = next((p for p in after if PUBLISHER.search(p)), publishers[0])
        layout.publisher = re.sub(r"^(Ministry [^,]+), (the )", r"\1 of \2", norm(chosen))
    layout.republisher = _republisher(lines, furniture)
    for i in range(last + 1, len(lines)):
        furniture[i] = furniture[i] or "page furniture after the readout"
    layout.excluded = _excluded_ranges(lines, furniture)
    return layout


def blocks_of(text: str, lines: list[Span]) -> list[Span]:
    """Lines joined where hard-wrapped text goes on: the next line follows with no blank line,
    and this one is long and stops mid-sentence. Short lines (titles, banners) stay apart."""
    blocks: list[Span] = []
    for line in lines:
        if blocks and _goes_on(text, blocks[-1], line):
            blocks[-1] = Span(blocks[-1].start, line.end, text[blocks[-1].start : line.end])
        else:
            blocks.append(line)
    return blocks


def _goes_on(text: str, block: Span, line: Span) -> bool:
    last = block.text.rsplit("\n", 1)[-1]
    return (
        text.count("\n", block.end, line.start) == 1
        and len(last) >= 40
        and last[-1] not in '.!?"”:'
        and furniture_label(last) is None
        and furniture_label(line.text) is None
    )


def _republisher(lines: list[Span], furniture: dict[int, str | None]) -> str | None:
    """The site's name when its furniture names it (a domain such as GlobalSecurity.org)."""
    for i, line in enumerate(lines):
        if furniture[i]:
            m = re.search(r"\b[A-Z][\w-]*\.(?:org|com|net|info)\b", line.text)
            if m:
                return m.group()
    return None


def _excluded_ranges(lines: list[Span], furniture: dict[int, str | None]) -> list[ExcludedRangeIn]:
    """One range per furniture line; consecutive lines with the same label make one range."""
    ranges: list[ExcludedRangeIn] = []
    previous: int | None = None
    for i, line in enumerate(lines):
        label = furniture[i]
        if label is None:
            previous = None
            continue
        if previous is not None and furniture[previous] == label and ranges:
            ranges[-1] = ExcludedRangeIn(start=ranges[-1].start, end=line.end, label=label)
        else:
            ranges.append(ExcludedRangeIn(start=line.start, end=line.end, label=label))
        previous = i
    return ranges


ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "no", "st", "jr", "co", "ltd", "inc", "vs", "etc", "u.s"}


def sentences_of(text: str, paragraph: Span) -> list[Span]:
    """The sentences of a paragraph; a period after an abbreviation ("U.S.") ends none."""
    out = []
    start = paragraph.start
    body = text[: paragraph.end]
    for m in re.finditer(r"[.!?][\"”’)]?(?=\s+[\"“‘(]?[A-Z0-9])", body[paragraph.start :]):
        stop = paragraph.start + m.end()
        word = re.search(r"([\w.]+)[.!?]\W*$", body[start:stop])
        if word and word.group(1).lower() in ABBREVIATIONS:
            continue
        out.append(span_of(text, start, stop))
        start = stop
    out.append(span_of(text, start, paragraph.end))
    return [s for s in out if s.text]


# ---------------------------------------------------------------------------------------------
# The vocabulary: countries, people, series, areas and entities the draft may reference.
# ---------------------------------------------------------------------------------------------


DRAFT_MARK = "# Draft seed of "  # the first line of every draft file


@dataclass
class Vocabulary:
    """The vocabulary file, and what the other files of its folder already define."""

    file: SeedFile
    taken: dict[str, set[Any]]  # "section.key" -> keys used by the folder's other seed files
    cited: list[SourceIn]  # sources the vocabulary cites but another file of the folder defines
    folder: Path

    @classmethod
    def read(cls, path: Path) -> "Vocabulary":
        """Read the vocabulary and the ids its folder uses, so the draft neither clashes nor dangles.

        Earlier drafts in the folder are skipped: a draft made again should not dodge its own ids.
        """
        vocabulary = SeedFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        taken: dict[str, set[Any]] = {}
        defined: dict[str, SourceIn] = {}
        for other in sorted(path.parent.glob("*.yaml")):
            try:
                text = other.read_text(encoding="utf-8")
                raw = yaml.safe_load(text) or {}
            except (yaml.YAMLError, OSError, UnicodeDecodeError):
                continue
            if text.startswith(DRAFT_MARK) or not isinstance(raw, dict):
                continue
            for section, items in raw.items():
                for item in items if isinstance(items, list) else []:
                    for key in ("id", "slug", "code"):
                        if isinstance(item, dict) and key in item:
                            taken.setdefault(f"{section}.{key}", set()).add(item[key])
                    if section == "sources" and isinstance(item, dict) and "id" in item:
                        with suppress(ValidationError):  # read_seed reports a bad entry
                            defined.setdefault(item["id"], SourceIn.model_validate(item))
        own = {s.id for s in vocabulary.sources}
        wanted = {ev.source for series in vocabulary.series for ev in series.evidence} - own
        cited = [defined[s] for s in sorted(wanted) if s in defined]
        return cls(vocabulary, taken, cited, path.parent)

    def country_names(self) -> dict[str, str]:
        """Code -> name: the vocabulary's names first, then the built-in table."""
        names = {code: name for code, name, *_ in COUNTRY_TABLE}
        names.update({c.code: c.name for c in self.file.countries})
        return names

    def series_by_name(self, name: str) -> SeriesIn | None:
        key = series_key(name)
        for series in self.file.series:
            if key in {series_key(n) for n in [series.name, *series.aliases]}:
                return series
        return None


def series_key(name: str) -> str:
    return re.sub(r"[\s\-–—]+", " ", name.lower()).strip()


class Countries:
    """Finds country names, adjectives and cities in text and tells their ISO codes."""

    def __init__(self, names: dict[str, str]):
        self.names: dict[str, str] = {}  # a name as written ("ROK", "Japan") -> its code
        self.adjectives: dict[str, str] = {}
        self.cities: dict[str, str] = {}  # lower case
        for code, name, adjective, others, cities in COUNTRY_TABLE:
            for word in (name, *others):
                self.names[word] = code
            self.adjectives[adjective] = code
            for city in cities:
                self.cities[city.lower()] = code
        for code, name in names.items():
            self.names[name] = code
        self.by_word = {w.lower(): c for w, c in [*self.names.items(), *self.adjectives.items()]}
        words = sorted({*self.names, *self.adjectives}, key=len, reverse=True)
        self.pattern = re.compile(
            r"(?<![\w-])(?:the\s+)?(" + "|".join(map(word_regex, words)) + r")(?![\w])", re.I
        )

    def forms(self, codes: Iterable[str]) -> tuple[list[str], list[str]]:
        """The names and the adjectives of these countries, as written."""
        wanted = set(codes)
        return (
            [w for w, c in self.names.items() if c in wanted],
            [w for w, c in self.adjectives.items() if c in wanted],
        )

    def code(self, word: str) -> str | None:
        key = norm(word).lower()
        if key.startswith("the "):
            key = key[4:]
        return self.by_word.get(key)

    def find(self, text: str) -> list[tuple[str, re.Match[str]]]:
        """Every country named in `text`, with its match, in order."""
        out = []
        for m in self.pattern.finditer(text):
            code = self.code(m.group(1))
            if code:
                out.append((code, m))
        return out

    def codes(self, text: str) -> list[str]:
        return list(dict.fromkeys(code for code, _ in self.find(text)))

    def common(self, text: str) -> str:
        """'The two sides' -> 'the two sides' (for mid-sentence use); 'China and Japan' and
        'ROK trade' keep their capital."""
        first = (text.split() or [""])[0]
        starts_with_name = any(m.start() == 0 for _, m in self.find(text)[:1])
        if starts_with_name or first.isupper():
            return text
        return text[:1].lower() + text[1:]


# ---------------------------------------------------------------------------------------------
# The draft itself: what the rules found, before it becomes seed entries.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DialogueParts:
    """What the opening of a readout says about the dialogue, with the spans that say it."""

    edition: int
    series_name: str  # as stated: "China-Japan High-level Economic Dialogue"
    edition_span: Span
    date: dt.date
    date_span: Span
    city: str
    city_span: Span | None
    departments: tuple[int, str, Span] | None  # count, as stated, the sentence
    gap: Span | None
    aims: list[Span]


@dataclass
class Person:
    id: str
    name: str
    country: str | None
    new: bool = False


@dataclass
class Found:
    """Everything proposed, in the terms of the seed format."""

    dialogue: DialogueIn
    participations: list[ParticipationIn]
    commitments: list[CommitmentIn]
    indicators: list[IndicatorIn]
    people: list[PersonIn]
    countries: list[CountryIn]
    series: list[SeriesIn]
    source: SourceIn
    cited: list[SourceIn]  # copies of sources the vocabulary cites but does not define


class Reader:
    """Reads one readout against a vocabulary; `draft()` returns the proposed seed file."""

    def __init__(
        self,
        text: str,
        file_name: str,
        raw: bytes,
        vocabulary: Vocabulary,
        first_id: int = DEFAULT_FIRST_ID,
        source_id: str | None = None,
    ):
        self.text = text
        self.file_name = file_name
        self.raw = raw
        self.vocabulary = vocabulary
        self.first_id = first_id
        self.countries = Countries(vocabulary.country_names())
        self.layout = read_layout(text)
        self.sentences = [s for p in self.layout.paragraphs for s in sentences_of(text, p)]
        self.source_id = source_id or self._free_key("sources.id", slugify(Path(file_name).stem))
        self.people: dict[str, Person] = {
            p.id: Person(p.id, p.name, p.country) for p in vocabulary.file.people
        }
        self.aliases: dict[str, str] = {}  # a name or alias, lower case -> person id
        for p in vocabulary.file.people:
            for name in (p.name, *p.aliases):
                self.aliases[norm(name).lower()] = p.id
        # Filled in as the draft proceeds (see `draft`).
        self.speakers: list[tuple[int, str, Span]] = []  # offset, person id, "Wang Yi said"
        self.new_series: list[SeriesIn] = []
        self.planned_next: PlannedEditionIn | None = None
        self.title = ""

    # -- helpers ---------------------------------------------------------------------------

    def span(self, start: int, end: int) -> Span:
        return span_of(self.text, start, end)

    def evidence(
        self, span: Span, field: str | None = None, role: EvidenceRole = "content"
    ) -> EvidenceIn:
        return EvidenceIn(
            source=self.source_id,
            quote=span.text,
            start=span.start,
            end=span.end,
            field=field,
            role=role,
        )

    def _free_key(self, section_key: str, wanted: str) -> str:
        """`wanted`, or `wanted-draft` when the seed folder already uses it."""
        taken = self.vocabulary.taken.get(section_key, set())
        candidate, n = wanted, 1
        while candidate in taken:
            candidate = f"{wanted}-draft" if n == 1 else f"{wanted}-draft-{n}"
            n += 1
        return candidate

    def sentence_at(self, offset: int) -> Span:
        return next(s for s in self.sentences if s.start <= offset < s.end)

    # -- the whole draft -------------------------------------------------------------------

    def draft(self) -> Found:
        dialogue_parts = self.read_dialogue()
        participants = self.read_participants(dialogue_parts)
        self.speakers = self.read_speakers(participants)
        dialogue = self.build_dialogue(dialogue_parts, participants)
        commitments = self.read_commitments(dialogue)
        if self.planned_next is not None:
            dialogue = dialogue.model_copy(update={"planned_next": self.planned_next})
        indicators = self.read_indicators(dialogue)
        new_people = [
            PersonIn(id=p.id, name=p.name, country=p.country or dialogue.countries[0])
            for p in self.people.values()
            if p.new
        ]
        used = {*dialogue.countries, *(p.country for p in new_people)}
        known = {c.code for c in self.vocabulary.file.countries}
        names = self.vocabulary.country_names()
        new_countries = [CountryIn(code=c, name=names[c]) for c in sorted(used - known)]
        self.check_ids(dialogues=[dialogue], participations=participants, commitments=commitments)
        self.check_ids(indicators=indicators)
        return Found(
            dialogue=dialogue,
            participations=participants,
            commitments=commitments,
            indicators=indicators,
            people=new_people,
            countries=new_countries,
            series=self.new_series,
            source=self.build_source(),
            cited=self.vocabulary.cited,
        )

    def check_ids(self, **sections: Sequence[Any]) -> None:
        """Refuse ids the seed folder already uses (a --first-id too low), rather than clash."""
        for section, facts in sections.items():
            clash = sorted(
                {f.id for f in facts} & self.vocabulary.taken.get(f"{section}.id", set())
            )
            if clash:
                raise DraftError(
                    f"--first-id {self.first_id}: {section} ids {clash} are already used in "
                    f"{self.vocabulary.folder}"
                )

    # -- the source ------------------------------------------------------------------------

    def build_source(self) -> SourceIn:
        layout = self.layout
        published = parse_date(layout.dateline.text) if layout.dateline else None
        account_of = None
        if layout.publisher:
            codes = self.countries.codes(layout.publisher)
            account_of = codes[0] if codes else None
        publisher = layout.publisher or "unknown publisher (to be filled in by the curator)"
        return SourceIn(
            id=self.source_id,
            title=layout.headline.plain if layout.headline else self.title,
            publisher=publisher,
            account_of=account_of,
            republished_by=layout.republisher,
            published_as_stated=layout.dateline.plain if layout.dateline else None,
            published_on=published,
            licence=f"Draft: readout by {publisher}; licence to be confirmed by the curator.",
            file=f"sources/{self.file_name}",
            sha256=hashlib.sha256(self.raw).hexdigest(),
            excluded=layout.excluded,
        )

    # -- the dialogue ----------------------------------------------------------------------

    def read_dialogue(self) -> "DialogueParts":
        """Edition, series, date, city, counts and the gap, each with the span that states it."""
        edition = self.find_edition()
        if edition is None:
            raise DraftError("no edition found (an ordinal such as 'the sixth ... Dialogue')")
        number, series_name, edition_span = edition
        date, date_span = self.find_date()
        city, city_span = self.find_city(edition_span)
        return DialogueParts(
            edition=number,
            series_name=series_name,
            edition_span=edition_span,
            date=date,
            date_span=date_span,
            city=city,
            city_span=city_span,
            departments=self.find_departments(),
            gap=self.find_gap(),
            aims=self.find_aims(),
        )

    def find_edition(self) -> tuple[int, str, Span] | None:
        """The first 'the sixth <Name> Dialogue' of the body, else of the headline."""
        ordinal = "|".join(ORDINALS) + r"|\d+(?:st|nd|rd|th)"
        cap = r"[A-Z][\w'’.-]*"
        pattern = re.compile(
            rf"\b(?:the\s+)?(?P<ord>{ordinal})\s+(?:round\s+of\s+(?:the\s+)?)?"
            rf"(?P<name>(?:{cap}\s+(?:(?:and|on|of|for)\s+)?)*?(?:{DIALOGUE_NOUNS}))\b",
            re.IGNORECASE,
        )
        places = [
            *self.layout.paragraphs,
            *([self.layout.headline] if self.layout.headline else []),
        ]
        for place in places:
            for m in pattern.finditer(self.text, place.start, place.end):
                name = m.group("name")
                if not name[:1].isupper():
                    continue
                word = m.group("ord").lower()
                number = ORDINALS.get(word) or int(re.sub(r"\D", "", word))
                return number, norm(name), self.span(m.start(), m.end())
        return None

    def find_date(self) -> tuple[dt.date, Span]:
        """The opening 'On March 22, 2025', else the first date of the body, else the dateline."""
        year = self._dateline_year()
        opening = self.layout.paragraphs[0]
        m = re.compile(rf"On\s+(?:{DATE})").match(self.text, opening.start)
        candidates = [m] if m else []
        for paragraph in self.layout.paragraphs:
            candidates += re.compile(DATE).finditer(self.text, paragraph.start, paragraph.end)
        for m in candidates:
            found = parse_date(m.group(), year)
            if found:
                return found, self.span(m.start(), m.end())
        dateline = self.layout.dateline
        found = parse_date(dateline.text) if dateline else None
        if dateline and found:
            return found, dateline
        raise DraftError("no date found (neither an opening 'On <date>' nor an 'Updated:' line)")

    def _dateline_year(self) -> int | None:
        found = parse_date(self.layout.dateline.text) if self.layout.dateline else None
        return found.year if found else None

    def find_city(self, edition: Span) -> tuple[str, Span | None]:
        """'in Tokyo' right after the dialogue's name, else the first known city of the opening."""
        m = re.compile(r"\s+(in\s+(?P<city>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?))").match(
            self.text, edition.end
        )
        if m and not self.countries.code(m.group("city")):
            return norm(m.group("city")), self.span(m.start(1), m.end(1))
        opening = self.layout.paragraphs[0]
        for m in re.finditer(r"\bin\s+([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)", opening.text):
            if m.group(1).lower() in self.countries.cities:
                return norm(m.group(1)), self.span(
                    opening.start + m.start(), opening.start + m.end()
                )
        return "not stated", None

    def find_departments(self) -> tuple[int, str, Span] | None:
        """'Officials from 15 government departments ... attended': a count of attendance."""
        pattern = re.compile(
            rf"(?P<stated>(?P<n>{NUMBER})\s+{ATTENDANCE_NOUNS}\b[^.]*?)\s+"
            r"(?:attended|took\s+part|participated|joined|were\s+present)",
            re.IGNORECASE,
        )
        for sentence in self.sentences:
            m = pattern.search(sentence.text)
            value = number_value(m.group("n")) if m else None
            if m and value is not None:
                return int(value), norm(m.group("stated")), sentence
        return None

    def find_gap(self) -> Span | None:
        """'after six years': how long since the previous edition, as stated."""
        pattern = re.compile(
            rf"\bafter\s+(?:a\s+(?:gap|hiatus|break)\s+of\s+)?(?:{NUMBER})\s+years\b"
        )
        for paragraph in self.layout.paragraphs:
            m = pattern.search(self.text, paragraph.start, paragraph.end)
            if m:
                return self.span(m.start(), m.end())
        return None

    def find_aims(self) -> list[Span]:
        """'... is held with the aim of delivering ..., strengthening ..., and providing ...'."""
        pattern = re.compile(r"\bwith\s+the\s+aims?\s+of\s+|\baim(?:s|ing|ed)?\s+(?:at|to)\s+")
        for sentence in self.sentences:
            m = pattern.search(self.text, sentence.start, sentence.end)
            if m:
                segments = comma_segments(self.text, m.end(), sentence.end)
                return [self.span(a, b) for a, b in join_segments(self.text, segments, _gerund)]
        return []

    def build_dialogue(
        self, parts: DialogueParts, participations: list[ParticipationIn]
    ) -> DialogueIn:
        series_name = parts.series_name
        countries = self.dialogue_countries(series_name, participations)
        series = self.vocabulary.series_by_name(series_name)
        if series is None:
            slug = self._free_key("series.slug", slugify(series_name))
            series = SeriesIn(slug=slug, name=series_name, countries=countries)
            self.new_series.append(series)
        else:
            countries = list(series.countries)
        city = parts.city
        host = self.countries.cities.get(city.lower())
        host = host if host in countries else countries[0]
        edition = parts.edition
        ordinal = next((w for w, n in ORDINALS.items() if n == edition), f"{edition}th")
        self.title = f"{upper_first(ordinal)} {series_name}"
        evidence = [
            self.evidence(parts.date_span, "date"),
            *([self.evidence(parts.city_span, "city")] if parts.city_span else []),
            self.evidence(parts.edition_span, "edition"),
        ]
        if self.layout.headline:
            evidence.append(self.evidence(self.layout.headline, "title"))
        departments = parts.departments
        if departments:
            evidence.append(self.evidence(departments[2], "departments_count"))
        if parts.gap:
            evidence.append(self.evidence(parts.gap, "gap_as_stated"))
        attribution = self.attribution_at(parts.aims[0].start) if parts.aims else None
        aims = [
            TextWithEvidence(
                text=upper_first(aim.plain),
                evidence=[
                    self.evidence(aim),
                    *([self.evidence(attribution[1], role="attribution")] if attribution else []),
                ],
            )
            for aim in parts.aims
        ]
        return DialogueIn(
            id=self.first_id,
            slug=self._free_key("dialogues.slug", f"{series.slug}-{edition}"),
            series=series.slug,
            edition=edition,
            title=self.title,
            date=parts.date,
            city=city,
            host_country=host,
            countries=countries,
            departments_count=departments[0] if departments else None,
            departments_as_stated=departments[1] if departments else None,
            gap_as_stated=parts.gap.plain if parts.gap else None,
            aims=aims,
            evidence=evidence,
        )

    def dialogue_countries(
        self, series_name: str, participations: list[ParticipationIn]
    ) -> list[str]:
        """The two countries: named in the series ('China-Japan'), else the headline, else the people."""
        found = self.countries.codes(series_name.replace("-", " "))
        if self.layout.headline:
            found += self.countries.codes(self.layout.headline.text)
        found += [p.country for p in participations]
        codes = list(dict.fromkeys(found))
        if len(codes) < 2:
            raise DraftError(f"cannot tell the two countries of {series_name!r}")
        return codes[:2]

    # -- people ----------------------------------------------------------------------------

    def read_participants(self, parts: DialogueParts) -> list[ParticipationIn]:
        """The titled people before 'co-chaired' in the sentence naming the edition (or the first)."""
        in_body = [s for s in self.sentences if s.start <= parts.edition_span.start < s.end]
        sentence = in_body[0] if in_body else self.sentences[0]
        verbs = "|".join(flex(v) for v in sorted(ROLE_VERBS, key=len, reverse=True))
        verb = re.compile(rf"\b({verbs})\b").search(self.text, sentence.start, sentence.end)
        if verb is None:
            return []
        role = ROLE_VERBS[norm(verb.group(1)).lower()]
        region_start = self._after_opening(sentence.start, verb.start())
        participations = []
        for n, (name, title, whole) in enumerate(self.titled_names(region_start, verb.start())):
            country, title_text = self.title_country(title)
            person = self.person_for(name.plain, country)
            participations.append(
                ParticipationIn(
                    id=self.first_id + n,
                    dialogue=self.first_id,
                    person=person.id,
                    role=role,
                    title=title_text,
                    country=country or person.country or self.default_country(parts),
                    evidence=[
                        self.evidence(whole),
                        self.evidence(self.span(verb.start(), verb.end()), "role"),
                    ],
                )
            )
        return participations

    def default_country(self, parts: DialogueParts) -> str:
        """A titled person without a nationality is the publishing ministry's own official; with
        no publisher known, the first country the dialogue's name gives (for the curator to check)."""
        named = f"{self.layout.publisher or ''} / {parts.series_name.replace('-', ' ')}"
        codes = self.countries.codes(named)
        if codes:
            return codes[0]
        raise DraftError("cannot tell the country of a participant")

    def _after_opening(self, start: int, end: int) -> int:
        """Skip an opening adverbial such as 'On March 22, 2025 local time,'."""
        position = start
        for m in re.finditer(r",\s+", self.text[start:end]):
            before = self.text[position : start + m.start()]
            if re.search(
                "|".join(MONTHS) + r"|local\s+time|^\s*(?:On|In|At|Today|Recently)\b|^\s*\d{4}",
                before,
            ):
                position = start + m.end()
            else:
                break
        return position

    def titled_names(self, start: int, end: int) -> list[tuple[Span, Span, Span]]:
        """(name, title, title and name) for each person named in text[start:end].

        A person is a vocabulary name, or two capitalised words (with particles such as 'von der')
        right after a title word, under a title holding a head word ('Minister', 'President').
        Each title runs from the end of the person before it.
        """
        tokens = [
            (start + m.start(), start + m.end(), m.group())
            for m in re.finditer(r"[^\s,;]+", self.text[start:end])
        ]
        out = []
        previous_end = start
        for a, b, known in self._name_ranges(tokens):
            name = self.span(tokens[a][0], tokens[b - 1][1])
            lead = re.match(r"(?:\s|,|and\b)*", self.text[previous_end : name.start])
            title = self.span(previous_end + (lead.end() if lead else 0), name.start)
            if known or TITLE_HEADS & {w.lower() for w in title.text.split()}:
                out.append((name, title, self.span(title.start, name.end)))
                previous_end = name.end
        return out

    def _name_ranges(self, tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, bool]]:
        """Token ranges of names: (first, end, whether the vocabulary knows the person)."""
        names: list[tuple[int, int, bool]] = []
        i = 0
        while i < len(tokens):
            known = self._known_name_at(tokens, i)
            if known:
                names.append((i, known, True))
                i = known
                continue
            j = i
            while j < len(tokens) and self._name_token(tokens[j][2], j > i):
                j += 1
                if self.text[tokens[j - 1][1] : tokens[j - 1][1] + 1] == ",":
                    break  # a comma ends a name
            if j == i:
                i += 1
                continue
            a = self._name_start(tokens, i, j)
            if a > 0 and tokens[a - 1][2].strip(".").lower() in TITLE_WORDS:
                names.append((a, j, False))
            i = j
        return names

    def _known_name_at(self, tokens: list[tuple[int, int, str]], i: int) -> int | None:
        """The end index of a vocabulary person's name starting at token i, if one does."""
        for width in (4, 3, 2, 1):
            if i + width <= len(tokens):
                words = " ".join(t[2] for t in tokens[i : i + width]).lower()
                if words in self.aliases and width > 1:
                    return i + width
        return None

    def _name_token(self, word: str, inside: bool) -> bool:
        bare = word.strip(".,")
        if inside and bare in NAME_PARTICLES:
            return True
        return (
            bare[:1].isupper()
            and bare.lower() not in TITLE_WORDS
            and self.countries.code(bare) is None
            and bare.lower() not in {"and", "the", "of", "for"}
        )

    def _name_start(self, tokens: list[tuple[int, int, str]], i: int, j: int) -> int:
        """A name is its last two capitalised words (with particles such as 'von der')."""
        capitals = 0
        a = j
        while a > i:
            word = tokens[a - 1][2].strip(".,")
            if word not in NAME_PARTICLES:
                if capitals == 2:
                    break
                capitals += 1
            a -= 1
        return a

    def title_country(self, title: Span) -> tuple[str | None, str]:
        """'Japanese Foreign Minister' -> ('JP', 'Foreign Minister'): the nationality leaves the title."""
        words = title.plain
        for m in self.countries.pattern.finditer(words):
            if m.start() == 0:
                code = self.countries.code(m.group(1))
                return code, words[m.end() :].strip()
            break
        codes = self.countries.codes(words)
        return (codes[0] if codes else None), words

    def person_for(self, name: str, country: str | None) -> Person:
        """The vocabulary's person of that name or alias, else a new one with a slug id."""
        key = norm(name).lower()
        if key in self.aliases:
            return self.people[self.aliases[key]]
        person_id = slugify(name)
        while person_id in self.people or person_id in self.vocabulary.taken.get(
            "people.id", set()
        ):
            person_id = f"{person_id}-2"
        person = Person(person_id, norm(name), country, new=True)
        self.people[person_id] = person
        self.aliases[key] = person_id
        return person

    def read_speakers(self, participations: list[ParticipationIn]) -> list[tuple[int, str, Span]]:
        """Every 'Wang Yi said' (or 'Iwaya said', 'said Iwaya', 'He said'): offset, person, span.

        A participant may be named by one of their names alone, when no other participant
        shares it; other people only by their full name or an alias.
        """
        forms: dict[str, str] = dict(self.aliases)
        short: dict[str, set[str]] = {}
        for p in participations:
            words = self.people[p.person].name.split()
            for word in {words[0], words[-1]}:  # "Wang" of Wang Yi, "Iwaya" of Takeshi Iwaya
                short.setdefault(word.lower(), set()).add(p.person)
        for word, ids in short.items():
            if len(ids) == 1 and word not in forms:
                forms[word] = next(iter(ids))
        names = "|".join(flex(f) for f in sorted(forms, key=len, reverse=True))
        if not names:
            return []
        say = re.compile(
            rf"\b(?P<name>{names}|He|She)\s+(?:also\s+|further\s+)?(?:{SAY_VERBS})\b"
            rf"|\b(?:said|added|noted)\s+(?P<after>{names})\b",
            re.IGNORECASE,
        )
        out: list[tuple[int, str, Span]] = []
        for paragraph in self.layout.paragraphs:
            for m in say.finditer(self.text, paragraph.start, paragraph.end):
                who = norm(m.group("name") or m.group("after")).lower()
                if who in {"he", "she"}:
                    if out and m.group("name")[:1].isupper():
                        out.append((m.start(), out[-1][1], self.span(m.start(), m.end())))
                    continue
                out.append((m.start(), forms[who], self.span(m.start(), m.end())))
        return out

    def attribution_at(self, offset: int) -> tuple[str, Span] | None:
        """Who is speaking at `offset`: an attribution in the same sentence, else the last one before."""
        sentence = self.sentence_at(offset)
        inside = [s for s in self.speakers if sentence.start <= s[0] < sentence.end]
        before = [s for s in self.speakers if s[0] <= offset]
        chosen = inside[0] if inside else (before[-1] if before else None)
        return (chosen[1], chosen[2]) if chosen else None

    # -- commitments -----------------------------------------------------------------------

    def read_commitments(self, dialogue: DialogueIn) -> list[CommitmentIn]:
        """Intents after 'should'/'agreed to' and joint outcomes ('The participating departments had ...')."""
        party = self.party_pattern(dialogue)
        out: list[CommitmentIn] = []
        for paragraph in self.layout.paragraphs:
            point, heading = None, None
            for n, sentence in enumerate(sentences_of(self.text, paragraph)):
                start = sentence.start
                if n == 0:
                    point, heading, start = self.point_heading(sentence)
                    if heading is not None:
                        continue
                if PAST_CONTEXT.search(sentence.text):
                    continue
                for item in self.intents(party, start, sentence.end):
                    if item.joint and NEXT_EDITION.match(item.span.text):
                        self.planned_next = self.planned_edition(dialogue, item)
                    else:
                        out.append(self.commitment(dialogue, len(out), item, point, heading))
        return out

    def planned_edition(self, dialogue: DialogueIn, item: "Intent") -> PlannedEditionIn:
        """'Both sides agreed to hold the seventh dialogue in China': the next edition, not an intent."""
        places = self.countries.codes(item.span.text) + [
            code for city, code in self.countries.cities.items() if city in item.span.plain.lower()
        ]
        host = next((code for code in places if code in dialogue.countries), None)
        return PlannedEditionIn(
            as_stated=item.span.plain, host_country=host, evidence=[self.evidence(item.span)]
        )

    def point_heading(self, sentence: Span) -> tuple[int | None, Span | None, int]:
        """'First, accelerate the ...' opens point 1 with a heading; 'First, the two sides should' has none."""
        m = re.match(r"(?P<word>[A-Z][a-z]+),\s+", sentence.text)
        word = m.group("word").lower() if m else ""
        if not m or word not in POINT_WORDS:
            return None, None, sentence.start
        after = sentence.start + m.end()
        imperative = first_word(self.text, after, sentence.end) in VERBS
        if imperative and not TRIGGER.search(self.text, after, sentence.end):
            return POINT_WORDS[word], sentence, after
        return POINT_WORDS[word], None, after

    def party_pattern(self, dialogue: DialogueIn) -> re.Pattern[str]:
        """Who can commit: the two sides, named countries, their enterprises, departments, 'we'."""
        country_words, adjectives = self.countries.forms(dialogue.countries)
        country_words.sort(key=len, reverse=True)
        country = "(?:" + "|".join(map(word_regex, country_words)) + ")"
        side = "(?:" + "|".join(map(word_regex, [*adjectives, *country_words])) + r")\s+side"
        both = (
            r"(?:the\s+two\s+(?:countries|sides|nations|governments)|both\s+(?:countries|sides)|"
            + country
            + r"(?:\s+and\s+"
            + country
            + r")?)"
        )
        actors = (
            r"(?:(?:the\s+)?(?:participating\s+|relevant\s+|competent\s+)?"
            r"(?:enterprises|companies|businesses|departments|ministries|agencies|governments|"
            r"local\s+governments|authorities|institutions|think\s+tanks)(?:\s+(?:of|from|in)\s+"
            + both
            + r")?)"
        )
        parts = [
            actors,
            r"(?:the\s+)?two\s+(?:sides|countries|nations|governments|parties)",
            r"both\s+(?:sides|countries|parties)",
            r"(?:the\s+)?parties\s+concerned|(?:all\s+)?relevant\s+parties",
            rf"(?:the\s+)?{side}",
            country + r"(?:\s+and\s+" + country + r")?",
            r"we",
        ]
        return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])", re.IGNORECASE)

    def intents(self, party: re.Pattern[str], start: int, end: int) -> Iterator["Intent"]:
        """Each intent of text[start:end]: after a trigger with a party as subject, or a joint past verb."""
        triggers = list(TRIGGER.finditer(self.text, start, end))
        for k, trigger in enumerate(triggers):
            if re.match(r"\s+be\b", self.text[trigger.end() : trigger.end() + 4]):
                continue  # "will be welcomed": an assessment, not an intent
            actor = self.actor_before(party, start, trigger.start())
            if actor is None:
                continue
            stop = end
            if k + 1 < len(triggers):
                following = self.actor_before(party, trigger.end(), triggers[k + 1].start())
                stop = following[0].start if following else triggers[k + 1].start()
            joint = bool(JOINT_TRIGGERS.match(trigger.group()))
            lead = upper_first(norm(self.text[actor[0].start : trigger.end()]))
            for a, b in self.list_items(trigger.end(), stop, VERBS, joint=False):
                yield Intent(self.span(a, b), actor[0], actor[1], lead, joint)
        if not triggers:
            yield from self.joint_outcomes(party, start, end)

    def actor_before(self, party: re.Pattern[str], start: int, end: int) -> tuple[Span, str] | None:
        """The party right before a trigger ('China and Japan, as major economies in the world,')."""
        best = None
        for m in party.finditer(self.text, start, end):
            gap = self.text[m.end() : end]
            if re.fullmatch(
                r"\s*(?:,[^,]{1,80},\s*)?(?:\w+ly\s+|also\s+|further\s+|still\s+)?", gap
            ):
                best = m
        if best is None:
            return None
        whole = self.span(best.start(), end)
        return whole, self.countries.common(norm(best.group()))

    def joint_outcomes(self, party: re.Pattern[str], start: int, end: int) -> Iterator["Intent"]:
        """'The participating departments had in-depth communication ..., and made plans ...'."""
        m = party.match(self.text, start)
        if m is None:
            return
        verb = re.compile(r"\s+(?:also\s+|jointly\s+)?(\w+)").match(self.text, m.end())
        if verb is None or verb.group(1).lower() not in JOINT_VERBS:
            return
        actor = self.span(m.start(), m.end())
        for a, b in self.list_items(verb.start(1), end, JOINT_VERBS, joint=True):
            yield Intent(
                self.span(a, b),
                actor,
                self.countries.common(actor.plain),
                upper_first(actor.plain),
                True,
            )

    def list_items(
        self, start: int, end: int, verbs: frozenset[str], joint: bool
    ) -> list[tuple[int, int]]:
        """Split a predicate into its intents at the source's own commas and 'and's.

        A comma segment opening with a verb starts an intent; any other segment continues the one
        before ('..., Kansai, Japan and ...'); a participle ('injecting ...') or a purpose clause
        ends the list, except an outcome ('reaching ...') after a joint, past-tense action.
        """
        items: list[list[int]] = []
        for a, b in comma_segments(self.text, start, end):
            a = skip_conjunction(self.text, a, b)
            first = first_word(self.text, a, b)
            if not items or opens_intent(self.text, a, b, verbs):
                items.append([a, b])
            elif first.endswith("ing") and first not in verbs:
                if joint and first in OUTCOME_PARTICIPLES:
                    items[-1][1] = b
                    continue
                break
            elif PURPOSE_START.match(self.text[a:b]):
                break
            else:
                items[-1][1] = b
        out = []
        for a, b in items:
            for x, y in split_at_and(self.text, a, b, verbs):
                y = cut_purpose(self.text, x, y)
                if len(self.text[x:y].split()) >= 2:
                    out.append((x, y))
        return out

    def commitment(
        self, dialogue: DialogueIn, n: int, item: "Intent", point: int | None, heading: Span | None
    ) -> CommitmentIn:
        speaker = None if item.joint else self.attribution_at(item.span.start)
        statement = f"{item.lead} {item.span.plain}."
        evidence = [self.evidence(item.span), self.evidence(item.actor_span, "actor")]
        heading_text = None
        if heading is not None:
            evidence.append(self.evidence(heading, "heading"))
            heading_text = upper_first(re.sub(r"^[A-Z][a-z]+,\s+", "", heading.plain))
        if speaker:
            evidence.append(self.evidence(speaker[1], role="attribution"))
        return CommitmentIn(
            id=self.first_id + n,
            dialogue=dialogue.id,
            statement=statement,
            kind="proposal" if speaker else "joint",
            speaker=speaker[0] if speaker else None,
            actor=item.actor,
            point=point,
            heading=heading_text,
            areas=self.areas_for(item.span.plain),
            entities=self.entities_for(item.span.plain),
            evidence=evidence,
        )

    # -- areas and entities ----------------------------------------------------------------

    def areas_for(self, text: str) -> list[str]:
        return propose_areas(text, self.vocabulary.file.areas)

    def entities_for(self, text: str) -> list[str]:
        return find_entities(text, self.vocabulary.file.entities)

    # -- indicators ------------------------------------------------------------------------

    def read_indicators(self, dialogue: DialogueIn) -> list[IndicatorIn]:
        """Figures with a unit: amounts, multiples, percentages and durations ('15 consecutive years')."""
        out: list[IndicatorIn] = []
        for sentence in self.sentences:
            measure: tuple[str, Span] | None = None
            for figure in find_figures(self.text, sentence):
                clause = self.figure_clause(sentence, figure)
                subject = self.figure_subject(clause)
                inherited = subject is None and measure is not None
                if subject is not None:
                    measure = subject
                out.append(
                    self.indicator(dialogue, len(out), sentence, figure, clause, measure, inherited)
                )
        return out

    def figure_clause(self, sentence: Span, figure: "Figure") -> Span:
        """The comma-delimited clause holding the figure, without a leading 'and' or 'with', nor
        an attribution ('Wang Yi noted that')."""
        for a, b in comma_segments(self.text, sentence.start, sentence.end):
            if a <= figure.span.start < b:
                for _, _, said in self.speakers:
                    if a <= said.start and said.end <= figure.span.start:
                        a = said.end
                        said_that = re.compile(r"\s+that\b").match(self.text, a)
                        a = said_that.end() if said_that else a
                a = skip_conjunction(self.text, a, b, extra=("with", "while", "but", "as"))
                return self.span(a, max(b, figure.span.end))
        return figure.span

    def figure_subject(self, clause: Span) -> tuple[str, Span] | None:
        """'bilateral trade' of 'bilateral trade has increased ...': the words before the verb."""
        m = re.search(
            r"(?:^|\s+)(?:has|have|had|is|was|were|are|reached|reaching|increased|rose|grew|remained|"
            r"stood|amounted|exceeded|hit|totall?ed|topped|surpassed|registered|recorded|stayed)\b",
            clause.text,
        )
        if m is None or m.start() == 0:
            return None  # no subject of its own: the clause continues the one before
        words = re.sub(r"^(?:the|a|an)\s+", "", clause.text[: m.start()], flags=re.I)
        if not words.strip():
            return None
        return upper_first(norm(words)), self.span(clause.start, clause.start + m.start())

    def measure_name(self, figure: "Figure", clause: Span, measure: tuple[str, Span] | None) -> str:
        """What the figure measures: the clause's subject ('Growth of bilateral trade' for a
        multiple that grew), or for a lone duration the clause it qualifies."""
        if figure.unit in {"years", "months", "decades"}:
            before = re.sub(
                r"\s+(?:for|over|in)\s*$", "", self.text[clause.start : figure.span.start]
            )
            return upper_first(norm(before)) or upper_first(figure.span.plain)
        name = measure[0] if measure else upper_first(figure.span.plain)
        growing = re.search(r"increas|grew|grow|rose|rise|\bup\b", clause.text)
        if figure.unit in {"times", "percent"} and growing:
            return f"Growth of {self.countries.common(name)}"
        return name

    def figure_period(
        self, sentence: Span, figure: "Figure", clause: Span
    ) -> tuple[str | None, Span | None]:
        """The period of a figure: its own ('for 15 consecutive years'), 'accumulative', else the
        sentence's 'since ...' (returned as a span of its own, for a field evidence)."""
        if figure.period is not None:
            return figure.period.plain, None
        own = re.search(
            r"\b(?:accumulative|cumulative|in\s+total|(?:in|during)\s+(?:19|20)\d\d)\b", clause.text
        )
        if own:
            return norm(own.group()), None
        since = re.search(r"\b(?:since|over\s+the\s+(?:past|last))\s+[^,]+", sentence.text)
        if since and sentence.start + since.start() < figure.span.start:
            span = self.span(sentence.start + since.start(), sentence.start + since.end())
            return span.plain, span
        return None, None

    def indicator(
        self,
        dialogue: DialogueIn,
        n: int,
        sentence: Span,
        figure: "Figure",
        clause: Span,
        measure: tuple[str, Span] | None,
        inherited: bool,
    ) -> IndicatorIn:
        evidence = [self.evidence(clause)]
        if inherited and measure:
            evidence.append(self.evidence(measure[1], "measure"))
        period_text, period_span = self.figure_period(sentence, figure, clause)
        if period_span is not None:
            evidence.append(self.evidence(period_span, "period_as_stated"))
        speaker = self.attribution_at(figure.span.start)
        if speaker:
            evidence.append(self.evidence(speaker[1], role="attribution"))
        name = self.measure_name(figure, clause, measure)
        named = self.countries.codes(clause.text)
        bilateral = re.search(r"bilateral|two-way|between|each other|\btwo\b", sentence.text, re.I)
        countries = list(dialogue.countries) if bilateral or not named else named
        return IndicatorIn(
            id=self.first_id + n,
            dialogue=dialogue.id,
            measure=name,
            countries=countries,
            value=figure.value,
            unit=figure.unit,
            comparator=figure.comparator,
            period_as_stated=period_text,
            date_stated=dialogue.date,
            stated_by=speaker[0] if speaker else None,
            evidence=evidence,
        )


@dataclass(frozen=True)
class Intent:
    span: Span  # the intent itself, the fact's main quote
    actor_span: Span  # who, as stated ("China and Japan, as major economies in the world")
    actor: str  # who, for the `actor` field ("China and Japan")
    lead: str  # the words before the intent in the statement ("China and Japan, ..., should")
    joint: bool


# ---------------------------------------------------------------------------------------------
# Clause splitting: the source's own commas and "and"s.
# ---------------------------------------------------------------------------------------------


def comma_segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The pieces of text[start:end] between ', ' and '; ' (a comma inside '1,200' is no boundary)."""
    out, a = [], start
    for m in re.finditer(r"[,;](?=\s)", text[start:end]):
        out.append((a, start + m.start()))
        a = start + m.end()
    out.append((a, end))
    return [(x, y) for x, y in out if text[x:y].strip()]


def skip_conjunction(text: str, a: int, b: int, extra: tuple[str, ...] = ()) -> int:
    """Move past leading whitespace and a leading 'and'/'or' (or the `extra` words)."""
    words = "|".join(("and", "or", "as well as", *extra))
    m = re.compile(rf"\s*(?:(?:{words})\s+)?\s*").match(text, a, b)
    return m.end() if m else a


def first_word(text: str, a: int, b: int) -> str:
    m = re.compile(r"\s*([\w'-]+)").match(text, a, b)
    return m.group(1).lower() if m else ""


def opens_intent(text: str, a: int, b: int, verbs: frozenset[str]) -> bool:
    """Does text[a:b] start with a verb of the list, maybe after an adverb ('further widen')?"""
    words = [w.lower() for w in re.findall(r"[\w'-]+", text[a:b])[:2]]
    if not words:
        return False
    if words[0] in verbs:
        return True
    adverb = words[0] in ADVERBS or words[0].endswith("ly")
    return adverb and len(words) > 1 and words[1] in verbs


def split_at_and(text: str, a: int, b: int, verbs: frozenset[str]) -> list[tuple[int, int]]:
    """'expand market access and eliminate discriminatory restrictions' is two intents."""
    out, start = [], a
    for m in re.finditer(r"\s+and\s+", text[a:b]):
        after = a + m.end()
        word = first_word(text, after, b)
        if word in AMBIGUOUS_VERBS or not opens_intent(text, after, b, verbs):
            continue
        out.append((start, a + m.start()))
        start = after
    out.append((start, b))
    return out


def cut_purpose(text: str, a: int, b: int) -> int:
    """Drop a trailing purpose ('... in emerging areas to continuously enrich ...'), but keep it
    where it is the point ('work with the ROK to implement ...')."""
    if first_word(text, a, b) in {"work", "cooperate", "join", "strive"}:
        return b
    for m in re.finditer(r"\s+(?:so\s+as\s+|in\s+order\s+)?to\s+(?:\w+ly\s+)?(\w+)", text[a:b]):
        words_before = len(text[a : a + m.start()].split())
        if words_before >= 2 and m.group(1).lower() in VERBS:
            return a + m.start()
    return b


def _gerund(text: str, a: int, b: int) -> bool:
    """Does text[a:b] open an aim ('strengthening ...', 'jointly drawing ...')?"""
    words = [w.lower() for w in re.findall(r"[\w'-]+", text[a:b])[:2]]
    if words and words[0] in ADVERBS and len(words) > 1:
        words = words[1:]
    return bool(words) and (words[0].endswith("ing") or words[0] in VERBS)


def join_segments(
    text: str, segments: Sequence[tuple[int, int]], opens: Callable[[str, int, int], bool]
) -> list[tuple[int, int]]:
    """Comma segments grouped into items: a segment that `opens` starts one, others continue it."""
    items: list[list[int]] = []
    for a, b in segments:
        a = skip_conjunction(text, a, b)
        if not items or opens(text, a, b):
            items.append([a, b])
        else:
            items[-1][1] = b
    return [(a, b) for a, b in items]


# ---------------------------------------------------------------------------------------------
# Figures and dates.
# ---------------------------------------------------------------------------------------------

DATE = (
    r"(?:" + "|".join(MONTHS) + r")\s+\d{1,2}(?:,?\s+\d{4})?"
    r"|\d{1,2}\s+(?:" + "|".join(MONTHS) + r")(?:\s+\d{4})?"
    r"|\d{4}-\d{2}-\d{2}"
)


def parse_date(text: str, default_year: int | None = None) -> dt.date | None:
    """'March 22, 2025', '22 March 2025' or '2025-03-22' (a missing year from `default_year`)."""
    iso = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    month = re.search("|".join(MONTHS), text)
    day = re.search(r"\b(\d{1,2})\b", text)
    year = re.search(r"\b(\d{4})\b", text)
    if not (month and day):
        return None
    y = int(year.group(1)) if year else default_year
    if y is None:
        return None
    try:
        return dt.date(y, MONTHS[month.group()], int(day.group(1)))
    except ValueError:
        return None


@dataclass(frozen=True)
class Figure:
    span: Span  # the figure with its comparator and any period that follows it
    value: float
    unit: str
    comparator: str | None
    period: Span | None


def figure_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Amounts ('300 billion U.S. dollars', '$5 billion'), multiples, percentages, durations."""
    cmp = rf"(?:(?P<cmp>{COMPARATORS})\s+)?"
    num = rf"(?P<num>{NUMBER})"
    scale = r"(?:\s*(?P<scale>" + "|".join(SCALES) + r"))?"
    currency = "|".join(f"(?P<c{i}>{pattern})" for i, (pattern, _) in enumerate(CURRENCIES))
    signs = "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True))
    return [
        (re.compile(rf"\b{cmp}{num}{scale}\s+(?:{currency})\b", re.I), "amount"),
        (re.compile(rf"{cmp}(?P<sign>{signs})\s?{num}{scale}\b", re.I), "amount"),
        (re.compile(rf"\b{cmp}{num}(?:\s+|-)(?P<unit>times|fold)\b", re.I), "multiple"),
        (re.compile(rf"\b{cmp}{num}\s*(?P<unit>percent|per\s+cent|%)", re.I), "percent"),
        (
            re.compile(
                rf"\b{cmp}{num}\s+(?:consecutive\s+)?(?P<unit>years|months|decades)\b", re.I
            ),
            "duration",
        ),
    ]


FIGURES = figure_patterns()


def find_figures(text: str, sentence: Span) -> list[Figure]:
    """The figures of a sentence; a duration right after another figure is that figure's period.

    A figure needs a unit, so counts of attendance ('15 government departments') are none (the
    dialogue records them); a gap ('after six years') belongs to the dialogue too.
    """
    matches: list[tuple[re.Match[str], str]] = []
    for pattern, kind in FIGURES:
        for m in pattern.finditer(text, sentence.start, sentence.end):
            if not any(o.start() < m.end() and m.start() < o.end() for o, _ in matches):
                matches.append((m, kind))
    matches.sort(key=lambda mk: mk[0].start())
    figures: list[Figure] = []
    skip: set[int] = set()
    for k, (m, kind) in enumerate(matches):
        if k in skip or (
            kind == "duration" and re.search(r"\bafter\s+$", text[sentence.start : m.start()])
        ):
            continue
        period = None
        end = m.end()
        if k + 1 < len(matches) and matches[k + 1][1] == "duration" and kind != "duration":
            nxt = matches[k + 1][0]
            joiner = text[m.end() : nxt.start()]
            if re.fullmatch(r"\s+(?:for|over|in)\s+(?:the\s+(?:past|last)\s+)?", joiner):
                period = span_of(text, m.end(), nxt.end())
                end = nxt.end()
                skip.add(k + 1)
        if kind == "duration" and len(matches) > 1:
            continue  # a duration beside another figure is its period, not a figure of its own
        value = figure_value(m)
        if value is None:
            continue
        cmp = m.group("cmp").lower() if m.group("cmp") else None
        figures.append(
            Figure(span_of(text, m.start(), end), value, figure_unit(m, kind), cmp, period)
        )
    return figures


def figure_value(m: re.Match[str]) -> float | None:
    value = number_value(m.group("num"))
    if value is None:
        return None
    groups = m.groupdict()
    if groups.get("scale"):
        value *= SCALES[groups["scale"].lower()]
    return value


def figure_unit(m: re.Match[str], kind: str) -> str:
    groups = m.groupdict()
    if kind == "amount":
        if groups.get("sign"):
            return CURRENCY_SIGNS[groups["sign"]]
        return next(code for i, (_, code) in enumerate(CURRENCIES) if groups.get(f"c{i}"))
    if kind == "percent":
        return "percent"
    return {"fold": "times"}.get(groups["unit"].lower(), groups["unit"].lower())


# ---------------------------------------------------------------------------------------------
# Areas and entities from the vocabulary.
# ---------------------------------------------------------------------------------------------


def stems(text: str) -> set[str]:
    """Crude stems (the first five letters): 'economy' and 'economic' meet, 'cooperation' too."""
    return {w[:5] for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def propose_areas(text: str, areas: Sequence[AreaIn]) -> list[str]:
    """Areas the text speaks of, by keyword rules and the vocabulary's own labels and descriptions.

    An area scores 3 for any of its keyword rules, up to 4 for the share of its label's words the
    text has, and 1 when the text shares two rarer words with its description; those scoring 3
    or more, and at least half the best, are proposed (one more for each item of a listed
    predicate). With no evidence at all the vocabulary's first (most general) area is proposed,
    for the curator to correct.
    """
    if not areas:
        return []
    lowered = norm(text).lower()
    words = stems(text)
    df: dict[str, int] = {}
    for area in areas:
        for stem in stems(area.label) | stems(area.description):
            df[stem] = df.get(stem, 0) + 1
    scores = {}
    for area in areas:
        label = stems(area.label)
        rare = {s for s in stems(area.description) - label if df[s] <= 2}
        score = (
            3.0 if any(keyword_in(k, lowered) for k in AREA_KEYWORDS.get(area.slug, ())) else 0.0
        )
        score += 4.0 * len(label & words) / len(label) if label else 0.0
        score += 1.0 if len(rare & words) >= 2 else 0.0
        scores[area.slug] = score
    best = max(scores.values())
    if best < 3.0:
        return [areas[0].slug]
    limit = 3 + text.count(",")
    ranked = sorted((s for s in scores.items() if s[1] >= max(3.0, best / 2)), key=lambda s: -s[1])
    return [slug for slug, _ in ranked[:limit]]


def keyword_in(keyword: str, lowered: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(keyword)}", lowered) is not None


def find_entities(text: str, entities: Iterable[EntityIn]) -> list[str]:
    """Entities whose name or alias the text contains, whatever its spacing."""
    plain = norm(text)
    found = []
    for entity in entities:
        for name in sorted([entity.name, *entity.aliases], key=len, reverse=True):
            if re.search(rf"(?<![\w]){flex(name)}(?![\w])", plain, re.IGNORECASE):
                found.append(entity.slug)
                break
    return found


# ---------------------------------------------------------------------------------------------
# The seed file, as YAML.
# ---------------------------------------------------------------------------------------------


def draft_seed(
    readout: Path,
    vocabulary: Path,
    first_id: int = DEFAULT_FIRST_ID,
    source_id: str | None = None,
    cited: bool = True,
) -> SeedFile:
    """The draft seed file of one readout, validated as `SeedFile`.

    With `cited`, the draft carries copies of the sources the vocabulary cites but leaves to
    another file (the series' evidence cites pages listed in history.yaml): then vocabulary,
    draft and readout make a seed folder that loads on its own. Leave them out when the draft
    joins the folder that defines them.
    """
    raw = readout.read_bytes()
    text = raw.decode("utf-8")
    reader = Reader(text, readout.name, raw, Vocabulary.read(vocabulary), first_id, source_id)
    found = reader.draft()
    return SeedFile(
        countries=found.countries,
        series=found.series,
        people=found.people,
        sources=[found.source, *(found.cited if cited else [])],
        dialogues=[found.dialogue],
        participations=found.participations,
        commitments=found.commitments,
        indicators=found.indicators,
    )


class _Dumper(yaml.SafeDumper):
    """Quotes holding invisible characters (en spaces) are written double-quoted, escaped; a value
    used twice (the dialogue's date) is written twice, not as a YAML alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(_invisible(ch) for ch in value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _invisible(ch: str) -> bool:
    return ch != " " and unicodedata.category(ch) in {"Zs", "Cf", "Zl", "Zp"}


def _escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


_Dumper.add_representer(str, _represent_str)


def to_yaml(seed: SeedFile, header: str = "") -> str:
    """The seed file as YAML: sections in the loader's order, empty ones left out.

    An en space shows as "\\u2002", as in the curated seed, so a reviewer sees it; the text is
    read back and compared before it is returned, so what is written is what was drafted.
    """
    data = {
        name: items
        for name, items in seed.model_dump(mode="python", exclude_defaults=True).items()
        if items
    }
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6)
    body = "".join(_escape(ch) if _invisible(ch) else ch for ch in body)
    if SeedFile.model_validate(yaml.safe_load(body)) != seed:
        raise DraftError("the YAML written does not read back as the draft")
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + body


def draft_header(readout: Path, first_id: int) -> str:
    return (
        f"{DRAFT_MARK[2:]}{readout.name}, proposed by rules (python -m app.seed draft).\n"
        "Every quote is the text at its offsets; check each fact, its areas and its kind before\n"
        f"adopting it. Drafted ids start at {first_id}."
    )


# ---------------------------------------------------------------------------------------------
# The commands: `draft` and `score` (dispatched from `python -m app.seed`).
# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """`draft READOUT` writes the draft seed to stdout; `score READOUT` compares it with the seed."""
    seed_dir = get_settings().seed_dir
    parser = argparse.ArgumentParser(prog="python -m app.seed", description=main.__doc__)
    parser.add_argument("command", choices=["draft", "score"])
    parser.add_argument("readout", type=Path, help="the readout, in plain text (UTF-8)")
    parser.add_argument(
        "--vocabulary",
        type=Path,
        default=seed_dir / "vocabulary.yaml",
        help="the vocabulary: its people, areas and series are reused (default: %(default)s)",
    )
    parser.add_argument(
        "--first-id", type=int, default=DEFAULT_FIRST_ID, help="first id of drafted facts"
    )
    parser.add_argument("--source-id", help="id of the source entry (default: from the file name)")
    parser.add_argument(
        "--without-cited",
        action="store_true",
        help="leave out the copies of sources the vocabulary cites (for a draft that joins the "
        "curated seed folder, which defines them)",
    )
    parser.add_argument(
        "--seed", type=Path, default=seed_dir, help="score: the curated seed folder"
    )
    parser.add_argument(
        "--draft", type=Path, help="score: a draft file to score instead of drafting anew"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="score: list misses and spurious facts"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "score" and args.draft:
            drafted = SeedFile.model_validate(
                yaml.safe_load(args.draft.read_text(encoding="utf-8"))
            )
        else:
            drafted = draft_seed(
                args.readout, args.vocabulary, args.first_id, args.source_id, not args.without_cited
            )
        if args.command == "draft":
            out = to_yaml(drafted, draft_header(args.readout, args.first_id))
            sys.stdout.buffer.write(out.encode("utf-8"))
            sys.stdout.flush()
            return 0
        sha = hashlib.sha256(args.readout.read_bytes()).hexdigest()
        print(f"draft of {args.readout} against the curated seed in {args.seed}")
        print(report(score(drafted, read_seed(args.seed), sha), verbose=args.verbose))
        return 0
    except (DraftError, OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        print(f"cannot draft {args.readout}: {exc}", file=sys.stderr)
        return 1
    except SeedError as exc:
        print(f"the curated seed does not verify:\n{exc}", file=sys.stderr)
        return 1
