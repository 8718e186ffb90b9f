import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.deps import reads
from app.api.lists import LIST_RESPONSES, BadCursor, PagingDep
from app.read import PageOfDocs, Snapshot
from app.schemas import Page

router = APIRouter(tags=["dataset"])
SERVED_AT = {
    "dialogue": "/dialogues/{}",
    "commitment": "/commitments/{}",
    "statement": "/statements/{}",
    "indicator": "/indicators/{}",
    "person": "/people/{}",
    "series": "/series/{}",
    "entity": "/entities/{}",
    "source": "/sources/{}",
}


class Change(BaseModel):
    kind: str = Field(examples=["commitment"])
    id: str = Field(examples=["24"])
    change: str = Field(description="`added`, `changed` or `removed` since the version asked.")
    version: int = Field(description="The dataset version of the change.")
    first_seen: int
    link: str | None = Field(description="Where the fact is served now; null once removed.")


def change_of(row: dict[str, Any], since: int) -> dict[str, Any]:
    if row["removed_in"] is not None:
        change, link = "removed", None
    else:
        change = "added" if row["first_seen"] > since else "changed"
        template = SERVED_AT.get(row["kind"])
        link = template.format(row["key"]) if template else None
    return {
        "kind": row["kind"],
        "id": row["key"],
        "change": change,
        "version": row["last_changed"],
        "first_seen": row["first_seen"],
        "link": link,
    }


def changes_page(
    snap: Snapshot, since: int, kind: str | None, limit: int, offset: int
) -> PageOfDocs:
    # What changed after `since`, less what was both added and removed after it.
    where = "last_changed > ? AND NOT (first_seen > ? AND removed_in IS NOT NULL)"
    params: list[Any] = [since, since]
    if kind:
        where += " AND kind = ?"
        params.append(kind)
    total = snap.value(f"SELECT count(*) FROM fact_version WHERE {where}", params)
    rows = snap.dicts(
        "SELECT kind, key, first_seen, last_changed, removed_in FROM fact_version"
        f" WHERE {where} ORDER BY last_changed, kind, key LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    bodies = [json.dumps(change_of(row, since)).encode() for row in rows]
    return PageOfDocs(total, limit, offset, bodies, None)


@router.get(
    "/changes",
    summary="What changed since a version",
    response_model=Page[Change],
    responses=LIST_RESPONSES,
)
@reads
def list_changes(
    snap: Snapshot,
    paging: PagingDep,
    since: Annotated[
        int,
        Query(
            ge=0, le=2**31 - 1, description="A dataset version; 0 lists every fact.", examples=[1]
        ),
    ],
    kind: Annotated[
        str | None, Query(max_length=40, description="Only facts of this kind (`commitment`, ...).")
    ] = None,
) -> Response:
    """The facts added, changed and removed after dataset version `since` (by kind and id, in
    the order the versions were loaded), so a client can sync without downloading everything."""
    if paging.cursor is not None:
        raise BadCursor("this list pages by offset: follow its `next` link")
    return paging.respond(changes_page(snap, since, kind, paging.limit, paging.offset), snap)
