import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.deps import reads, stamp_version
from app.read import Snapshot

router = APIRouter(tags=["search"])
MARK = ("<mark>", "</mark>")
# A search ranks at most this many matches (the first by entry id) and counts up to it, so
# that a common word costs about the same at any size of data rather than ranking every match.
RANKED = 10_000


class SearchHit(BaseModel):
    kind: str = Field(examples=["commitment"])
    id: str = Field(examples=["24"])
    title: str
    link: str = Field(examples=["/commitments/24"])
    snippet: str = Field(description="The matching passage; matched words in <mark>…</mark>.")


class SearchResults(BaseModel):
    q: str
    total: int = Field(description=f"Matches, counted up to {RANKED:,}.")
    total_relation: Literal["eq", "gte"] = Field(
        description=f"`gte`: more than {RANKED:,} entries match, and the hits are ranked among "
        f"the first {RANKED:,} of them (in the order entries were loaded); add words to narrow it."
    )
    limit: int
    offset: int
    items: list[SearchHit]


def fts5_query(q: str) -> str:
    """The words of `q` as an FTS5 query in which every word must match (no operators)."""
    words = re.findall(r"\w+", q)[:10]
    return " ".join(f'"{w}"' for w in words)


# The entries matching a query: the parameters are the query, then the kind if one is asked.
# SQLite: CROSS JOIN makes it walk the index's matches and look each entry up; left to itself,
# with a kind it walks every entry of that kind and asks the index about each (13 s for one
# search at 100k commitments).
SQLITE_MATCHES = """
FROM search_fts CROSS JOIN search_entry e ON e.id = search_fts.rowid
WHERE search_fts MATCH ? {kind}"""
PG_MATCHES = """
FROM search_entry e, plainto_tsquery('english', ?) AS query
WHERE e.fulltext @@ query {kind}"""  # e.fulltext: a stored tsvector (migration 0005)


def count_matches(snap: Snapshot, matches: str, params: list[str]) -> int:
    """How many entries match, up to RANKED + 1."""
    sql = f"SELECT count(*) FROM (SELECT 1 {matches} LIMIT ?) AS capped"
    return int(snap.value(sql, [*params, RANKED + 1]))


def ranked_sqlite(
    snap: Snapshot, matches: str, params: list[str], total: int, page: list[int]
) -> Any:
    """A page of the first RANKED `matches` by rowid, best first. FTS5 yields matches in rowid
    order, and a bound on the rowid narrows its own scan."""
    upto, bound = "", []
    if total > RANKED:
        last = f"SELECT search_fts.rowid {matches} ORDER BY search_fts.rowid LIMIT 1 OFFSET ?"
        upto, bound = "AND search_fts.rowid <= ?", [snap.value(last, [*params, RANKED - 1])]
    sql = f"""
    SELECT e.kind, e.key, e.title, e.link,
           snippet(search_fts, 1, '<mark>', '</mark>', '…', 16) AS snippet
    {matches} {upto}
    ORDER BY bm25(search_fts, 4.0, 1.0), e.id
    LIMIT ? OFFSET ?"""
    return snap.rows(sql, [*params, *bound, *page])


def ranked_postgresql(
    snap: Snapshot, matches: str, params: list[str], total: int, page: list[int]
) -> Any:
    """A page of the first RANKED `matches` by id, best first. With fewer matches, all of them;
    with more, ordered by id so that every page ranks the same ones (a scan's own order may
    change between requests), which PostgreSQL finds by walking the ids until it has enough."""
    first = "ORDER BY e.id" if total > RANKED else ""
    sql = f"""
    SELECT e.kind, e.key, e.title, e.link,
           ts_headline('english', e.body, e.query,
                       'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8') AS snippet
    FROM (SELECT e.id, e.kind, e.key, e.title, e.link, e.body, e.fulltext, query
          {matches} {first} LIMIT ?) AS e
    ORDER BY ts_rank_cd(e.fulltext, e.query) DESC, e.id
    LIMIT ? OFFSET ?"""
    return snap.rows(sql, [*params, RANKED, *page])


@router.get("/search", summary="Search facts and source text", response_model=SearchResults)
@reads
def search(
    snap: Snapshot,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Words to find; every word must match (stemmed, case-insensitive).",
            examples=["supply chains"],
        ),
    ],
    kind: Annotated[
        Literal["commitment", "indicator", "dialogue", "statement", "source"] | None,
        Query(description="Only hits of this kind."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Hits per page (1-100).")] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000, description="Hits to skip.")] = 0,
) -> Response:
    """Ranked full-text search over commitments, statements, indicators, dialogues and the
    paragraphs of source text; each hit links to its resource (or its span of text)."""
    sqlite = snap.dialect.name == "sqlite"
    query = fts5_query(q) if sqlite else " ".join(re.findall(r"\w+", q)[:10])
    where_kind = "AND e.kind = ?" if kind else ""
    matching = [query, *([kind] if kind else [])]
    hits: list[dict[str, str]] = []
    total = 0
    if query:
        matches = (SQLITE_MATCHES if sqlite else PG_MATCHES).format(kind=where_kind)
        total = count_matches(snap, matches, matching)
        ranked = ranked_sqlite if sqlite else ranked_postgresql
        rows = ranked(snap, matches, matching, total, [limit, offset])
        hits = [
            {"kind": kind_, "id": key, "title": title, "link": link, "snippet": snippet}
            for kind_, key, title, link, snippet in rows
        ]
    body = {
        "q": q,
        "total": min(total, RANKED),
        "total_relation": "gte" if total > RANKED else "eq",
        "limit": limit,
        "offset": offset,
        "items": hits,
    }
    response = Response(
        json.dumps(body, ensure_ascii=False).encode(), media_type="application/json"
    )
    return stamp_version(response, snap)
