import json
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.deps import reads, stamp_version
from app.read import Snapshot

router = APIRouter(tags=["search"])
MARK = ("<mark>", "</mark>")


class SearchHit(BaseModel):
    kind: str = Field(examples=["commitment"])
    id: str = Field(examples=["24"])
    title: str
    link: str = Field(examples=["/commitments/24"])
    snippet: str = Field(description="The matching passage; matched words in <mark>…</mark>.")


class SearchResults(BaseModel):
    q: str
    total: int
    limit: int
    offset: int
    items: list[SearchHit]


def fts5_query(q: str) -> str:
    """The words of `q` as an FTS5 query in which every word must match (no operators)."""
    words = re.findall(r"\w+", q)[:10]
    return " ".join(f'"{w}"' for w in words)


SQLITE_SEARCH = """
SELECT e.kind, e.key, e.title, e.link,
       snippet(search_fts, 1, '<mark>', '</mark>', '…', 16) AS snippet
FROM search_fts JOIN search_entry e ON e.id = search_fts.rowid
WHERE search_fts MATCH ? {kind}
ORDER BY bm25(search_fts, 4.0, 1.0), e.id
LIMIT ? OFFSET ?
"""
SQLITE_TOTAL = """
SELECT count(*) FROM search_fts JOIN search_entry e ON e.id = search_fts.rowid
WHERE search_fts MATCH ? {kind}
"""
PG_DOCUMENT = "e.fulltext"  # to_tsvector('english', title || ' ' || body), stored (migration 0005)
PG_SEARCH = f"""
SELECT e.kind, e.key, e.title, e.link,
       ts_headline('english', e.body, query,
                   'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8') AS snippet
FROM search_entry e, plainto_tsquery('english', ?) AS query
WHERE {PG_DOCUMENT} @@ query {{kind}}
ORDER BY ts_rank_cd({PG_DOCUMENT}, query) DESC, e.id
LIMIT ? OFFSET ?
"""
PG_TOTAL = f"""
SELECT count(*) FROM search_entry e, plainto_tsquery('english', ?) AS query
WHERE {PG_DOCUMENT} @@ query {{kind}}
"""


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
        search_sql, total_sql = (SQLITE_SEARCH, SQLITE_TOTAL) if sqlite else (PG_SEARCH, PG_TOTAL)
        total = snap.value(total_sql.format(kind=where_kind), matching)
        rows = snap.rows(search_sql.format(kind=where_kind), [*matching, limit, offset])
        hits = [
            {"kind": kind_, "id": key, "title": title, "link": link, "snippet": snippet}
            for kind_, key, title, link, snippet in rows
        ]
    body = {"q": q, "total": total, "limit": limit, "offset": offset, "items": hits}
    response = Response(
        json.dumps(body, ensure_ascii=False).encode(), media_type="application/json"
    )
    return stamp_version(response, snap)
