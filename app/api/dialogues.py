from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import extract, or_, select

from app.api.deps import (
    NOT_FOUND,
    CountryCode,
    IsoDate,
    NotFound,
    document_or_404,
    order_of,
    reads,
)
from app.api.lists import LIST_RESPONSES, SORT_HELP, PagingDep
from app.models import Dialogue
from app.read import Snapshot
from app.schemas import DialogueDetail, DialogueSummary, Page

router = APIRouter(prefix="/dialogues", tags=["dialogues"])
t = Dialogue.__table__  # type: ignore[attr-defined]
SORTS = {"id": t.c.id, "date": t.c.date, "edition": t.c.edition}


@router.get(
    "", summary="List dialogues", response_model=Page[DialogueSummary], responses=LIST_RESPONSES
)
@reads
def list_dialogues(
    snap: Snapshot,
    paging: PagingDep,
    country: CountryCode = None,
    series: Annotated[str | None, Query(max_length=80, description="Series slug.")] = None,
    year: Annotated[
        int | None,
        Query(ge=1900, le=2100, description="Dialogues held in this year.", examples=[2025]),
    ] = None,
    date_from: Annotated[IsoDate | None, Query(description="On or after this date.")] = None,
    date_to: Annotated[IsoDate | None, Query(description="On or before this date.")] = None,
    sort: Annotated[
        Literal["date", "-date", "edition", "-edition", "id", "-id"], Query(description=SORT_HELP)
    ] = "date",
) -> Response:
    """Dialogues between two countries, each with its series, edition, date and place."""
    keys = select(t.c.id)
    if country:
        code = country.upper()
        keys = keys.where(or_(t.c.country_a == code, t.c.country_b == code))
    if series:
        keys = keys.where(t.c.series_slug == series)
    if year is not None:
        keys = keys.where(extract("year", t.c.date) == year)
    if date_from:
        keys = keys.where(t.c.date >= date_from)
    if date_to:
        keys = keys.where(t.c.date <= date_to)
    return paging.respond(
        paging.page(snap, "dialogue_summary", keys, order_of(sort, SORTS, t.c.id)), snap
    )


@router.get(
    "/{dialogue}",
    summary="One dialogue with all its facts",
    response_model=DialogueDetail,
    responses=NOT_FOUND,
)
@reads
def get_dialogue(
    snap: Snapshot,
    dialogue: Annotated[
        str,
        Path(
            max_length=100,
            description="The dialogue's id (its edition's number in the seed) or its slug.",
            examples=["6", "china-japan-high-level-economic-dialogue-6"],
        ),
    ],
) -> Response:
    """The dialogue, who took part, the context it builds on, its commitments, statements,
    indicators and sources: each fact with its evidence."""
    key = dialogue
    if not (dialogue.isascii() and dialogue.isdigit()):
        found = snap.scalar(select(t.c.id).where(t.c.slug == dialogue))
        if found is None:
            raise NotFound("dialogue", dialogue)
        key = str(found)
    elif len(dialogue) > 9:
        raise NotFound("dialogue", dialogue)
    return document_or_404(snap, "dialogue", str(int(key)), "dialogue")
