from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlalchemy import select

from app.api.deps import NOT_FOUND, Limit, Offset, SnapshotDep, document_or_404, page_response
from app.models import Series
from app.schemas import Page, SeriesPublic

router = APIRouter(prefix="/series", tags=["series"])
t = Series.__table__  # type: ignore[attr-defined]


@router.get("", summary="List dialogue series", response_model=Page[SeriesPublic])
def list_series(snap: SnapshotDep, limit: Limit = 20, offset: Offset = 0) -> Response:
    """Each recurring dialogue between two countries, with its editions in order."""
    return page_response(snap.page("series", select(t.c.slug), [t.c.slug], limit, offset), snap)


@router.get(
    "/{slug}",
    summary="One series and its editions",
    response_model=SeriesPublic,
    responses=NOT_FOUND,
)
def get_series(
    snap: SnapshotDep,
    slug: Annotated[
        str, Path(max_length=100, examples=["china-japan-high-level-economic-dialogue"])
    ],
) -> Response:
    """The series, the spellings seen for its name, and every edition in order."""
    return document_or_404(snap, "series", slug, "series")
