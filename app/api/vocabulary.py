from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import NOT_FOUND, document_or_404, reads
from app.api.lists import LIST_RESPONSES, PagingDep
from app.read import Column, Keys, Order, Snapshot
from app.schemas import AreaPublic, CountryPublic, EntityPublic, Page

router = APIRouter(tags=["vocabulary"])
BY_SLUG = Order(None, Column("t.slug", str))


@router.get(
    "/areas",
    summary="List areas of cooperation",
    response_model=Page[AreaPublic],
    responses=LIST_RESPONSES,
)
@reads
def list_areas(snap: Snapshot, paging: PagingDep) -> Response:
    """The controlled vocabulary that `/commitments?area=` filters on."""
    return paging.respond(paging.page(snap, "area", Keys("areas", "area"), BY_SLUG), snap)


@router.get(
    "/entities",
    summary="List named entities",
    response_model=Page[EntityPublic],
    responses=LIST_RESPONSES,
)
@reads
def list_entities(
    snap: Snapshot,
    paging: PagingDep,
    kind: Annotated[
        str | None, Query(max_length=40, description="`agreement`, `institution`, ...")
    ] = None,
) -> Response:
    """Agreements, institutions, mechanisms and events named in the facts, with what mentions them."""
    keys = Keys("entities", "entity")
    if kind:
        keys = keys.filter("t.kind = ?", kind)
    return paging.respond(paging.page(snap, "entity", keys, BY_SLUG), snap)


@router.get(
    "/entities/{slug}", summary="One entity", response_model=EntityPublic, responses=NOT_FOUND
)
@reads
def get_entity(
    snap: Snapshot,
    slug: Annotated[str, Path(max_length=100, description="The entity's slug.", examples=["rcep"])],
) -> Response:
    """An entity and every commitment and statement that mentions it."""
    return document_or_404(snap, "entity", slug, "entity")


@router.get(
    "/countries",
    summary="List countries in the data",
    response_model=Page[CountryPublic],
    responses=LIST_RESPONSES,
)
@reads
def list_countries(snap: Snapshot, paging: PagingDep) -> Response:
    """The countries the data speaks of, with how many dialogues, commitments and people each has."""
    keys = Keys("countries", "country")
    return paging.respond(
        paging.page(snap, "country", keys, Order(None, Column("t.code", str))), snap
    )
