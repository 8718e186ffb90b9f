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
from app.schemas import IndicatorPublic, Page

router = APIRouter(prefix="/indicators", tags=["indicators"])
KEY = Column("t.id", int)
SORTS = {"id": KEY, "value": Column("t.value", float)}


@router.get(
    "",
    summary="List economic indicators",
    response_model=Page[IndicatorPublic],
    responses=LIST_RESPONSES,
)
@reads
def list_indicators(
    snap: Snapshot,
    paging: PagingDep,
    country: CountryCode = None,
    unit: Annotated[
        str | None, Query(max_length=20, description="`USD`, `times`, ...", examples=["USD"])
    ] = None,
    dialogue: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Dialogue id.")] = None,
    sort: Annotated[Literal["id", "-id", "value", "-value"], Query(description=SORT_HELP)] = "id",
) -> Response:
    """Economic figures as a dialogue's source states them, with the comparator and period."""
    keys = Keys("indicators", "indicator")
    if country:
        keys = keys.filter(
            "EXISTS (SELECT 1 FROM indicator_country c WHERE c.indicator_id = t.id"
            " AND c.country = ?)",
            country.upper(),
        )
    if unit:
        keys = keys.filter("t.unit = ?", unit)
    if dialogue is not None:
        keys = keys.filter("t.dialogue_id = ?", dialogue)
    return paging.respond(paging.page(snap, "indicator", keys, order_of(sort, SORTS, KEY)), snap)


@router.get(
    "/{indicator_id}", summary="One indicator", response_model=IndicatorPublic, responses=NOT_FOUND
)
@reads
def get_indicator(
    snap: Snapshot,
    indicator_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="The indicator's id.", examples=[1])
    ],
) -> Response:
    """An economic figure with its evidence."""
    return document_or_404(snap, "indicator", str(indicator_id), "indicator")
