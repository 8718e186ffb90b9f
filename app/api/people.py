from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import (
    NOT_FOUND,
    CountryCode,
    document_or_404,
    order_of,
    reads,
)
from app.api.lists import LIST_RESPONSES, SORT_HELP, PagingDep
from app.read import Column, Keys, Snapshot
from app.schemas import Page, PersonPublic

router = APIRouter(prefix="/people", tags=["people"])
KEY = Column("t.id", str)
SORTS = {"id": KEY, "name": Column("t.name", str)}


@router.get("", summary="List people", response_model=Page[PersonPublic], responses=LIST_RESPONSES)
@reads
def list_people(
    snap: Snapshot,
    paging: PagingDep,
    country: CountryCode = None,
    sort: Annotated[Literal["name", "-name", "id", "-id"], Query(description=SORT_HELP)] = "name",
) -> Response:
    """Everyone who took part in a dialogue or is named in its facts."""
    keys = Keys("people", "person")
    if country:
        keys = keys.filter("t.country = ?", country.upper())
    return paging.respond(paging.page(snap, "person", keys, order_of(sort, SORTS, KEY)), snap)


@router.get("/{person_id}", summary="One person", response_model=PersonPublic, responses=NOT_FOUND)
@reads
def get_person(
    snap: Snapshot,
    person_id: Annotated[
        str, Path(max_length=100, description="The person's id (a slug).", examples=["wang-yi"])
    ],
) -> Response:
    """A person with their participations (role and title then) and what they stated."""
    return document_or_404(snap, "person", person_id, "person")
