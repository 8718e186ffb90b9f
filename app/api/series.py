from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from app.api.deps import NOT_FOUND, document_or_404, reads
from app.api.lists import LIST_RESPONSES, PagingDep
from app.read import Column, Keys, Order, Snapshot
from app.schemas import Page, SeriesPublic

router = APIRouter(prefix="/series", tags=["series"])
ORDER = Order(None, Column("t.slug", str))


@router.get(
    "", summary="List dialogue series", response_model=Page[SeriesPublic], responses=LIST_RESPONSES
)
@reads
def list_series(snap: Snapshot, paging: PagingDep) -> Response:
    """Each recurring dialogue between two countries, with its editions in order."""
    return paging.respond(paging.page(snap, "series", Keys("series", "series"), ORDER), snap)


@router.get(
    "/{slug}",
    summary="One series and its editions",
    response_model=SeriesPublic,
    responses=NOT_FOUND,
)
@reads
def get_series(
    snap: Snapshot,
    slug: Annotated[
        str,
        Path(
            max_length=100,
            description="The series' slug.",
            examples=["china-japan-high-level-economic-dialogue"],
        ),
    ],
) -> Response:
    """The series, the spellings seen for its name, and every edition in order."""
    return document_or_404(snap, "series", slug, "series")
