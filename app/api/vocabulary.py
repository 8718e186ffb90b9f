from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from app.api.deps import NOT_FOUND, Limit, Offset, SnapshotDep, document_or_404, page_response
from app.models import Area, Country, Entity
from app.schemas import AreaPublic, CountryPublic, EntityPublic, Page

router = APIRouter(tags=["vocabulary"])
areas = Area.__table__  # type: ignore[attr-defined]
entities = Entity.__table__  # type: ignore[attr-defined]
countries = Country.__table__  # type: ignore[attr-defined]


@router.get("/areas", summary="List areas of cooperation", response_model=Page[AreaPublic])
def list_areas(snap: SnapshotDep, limit: Limit = 20, offset: Offset = 0) -> Response:
    """The controlled vocabulary that `/commitments?area=` filters on."""
    keys = select(areas.c.slug)
    return page_response(snap.page("area", keys, [areas.c.slug], limit, offset), snap)


@router.get("/entities", summary="List named entities", response_model=Page[EntityPublic])
def list_entities(
    snap: SnapshotDep,
    kind: Annotated[
        str | None, Query(max_length=40, description="`agreement`, `institution`, ...")
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Response:
    """Agreements, institutions, mechanisms and events named in the facts, with what mentions them."""
    keys = select(entities.c.slug)
    if kind:
        keys = keys.where(entities.c.kind == kind)
    return page_response(snap.page("entity", keys, [entities.c.slug], limit, offset), snap)


@router.get(
    "/entities/{slug}", summary="One entity", response_model=EntityPublic, responses=NOT_FOUND
)
def get_entity(
    snap: SnapshotDep, slug: Annotated[str, Path(max_length=100, examples=["rcep"])]
) -> Response:
    """An entity and every commitment and statement that mentions it."""
    return document_or_404(snap, "entity", slug, "entity")


@router.get("/countries", summary="List countries in the data", response_model=Page[CountryPublic])
def list_countries(snap: SnapshotDep, limit: Limit = 20, offset: Offset = 0) -> Response:
    """The countries the data speaks of, with how many dialogues, commitments and people each has."""
    keys = select(countries.c.code)
    return page_response(snap.page("country", keys, [countries.c.code], limit, offset), snap)
