from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlalchemy import select

from app.api.deps import NOT_FOUND, Limit, Offset, SnapshotDep, document_or_404, page_response
from app.models import Source
from app.schemas import Page, SourceDetail, SourcePublic

router = APIRouter(prefix="/sources", tags=["sources"])
t = Source.__table__  # type: ignore[attr-defined]


@router.get("", summary="List sources", response_model=Page[SourcePublic])
def list_sources(snap: SnapshotDep, limit: Limit = 20, offset: Offset = 0) -> Response:
    """The documents the facts are drawn from (stored, byte-exact) and the pages they cite."""
    keys = select(t.c.id)
    return page_response(snap.page("source_summary", keys, [t.c.id], limit, offset), snap)


@router.get(
    "/{source_id}",
    summary="One source with its text",
    response_model=SourceDetail,
    responses=NOT_FOUND,
)
def get_source(
    snap: SnapshotDep,
    source_id: Annotated[str, Path(max_length=100, examples=["mfa-cn-2025-03-22"])],
) -> Response:
    """The source's metadata, full text, page furniture excluded from evidence, and every
    evidence span drawn from it with the fact it supports."""
    return document_or_404(snap, "source", source_id, "source")
