import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

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
from app.read import Column, Keys, Snapshot
from app.schemas import DialogueDetail, DialogueSummary, Page

router = APIRouter(prefix="/dialogues", tags=["dialogues"])
KEY = Column("t.id", int)
SORTS = {"id": KEY, "date": Column("t.date", dt.date), "edition": Column("t.edition", int)}


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
    keys = Keys("dialogues", "dialogue")
    if country:
        code = country.upper()
        keys = keys.filter("(t.country_a = ? OR t.country_b = ?)", code, code)
    if series:
        keys = keys.filter("t.series_slug = ?", series)
    if year is not None:  # dates are ISO strings on SQLite and dates on PostgreSQL
        date_from = max(date_from or dt.date.min, dt.date(year, 1, 1))
        date_to = min(date_to or dt.date.max, dt.date(year, 12, 31))
    if date_from:
        keys = keys.filter("t.date >= ?", date_from.isoformat())
    if date_to:
        keys = keys.filter("t.date <= ?", date_to.isoformat())
    return paging.respond(
        paging.page(snap, "dialogue_summary", keys, order_of(sort, SORTS, KEY)), snap
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
        found = snap.value("SELECT id FROM dialogue WHERE slug = ?", (dialogue,))
        if found is None:
            raise NotFound("dialogue", dialogue)
        key = str(found)
    elif len(dialogue) > 9:
        raise NotFound("dialogue", dialogue)
    return document_or_404(snap, "dialogue", str(int(key)), "dialogue")
