from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import exists, select

from app.api.deps import (
    NOT_FOUND,
    CountryCode,
    document_or_404,
    order_of,
    reads,
)
from app.api.lists import LIST_RESPONSES, SORT_HELP, PagingDep
from app.models import Indicator, IndicatorCountry
from app.read import Snapshot
from app.schemas import IndicatorPublic, Page

router = APIRouter(prefix="/indicators", tags=["indicators"])
t = Indicator.__table__  # type: ignore[attr-defined]
countries = IndicatorCountry.__table__  # type: ignore[attr-defined]
SORTS = {"id": t.c.id, "value": t.c.value}


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
    keys = select(t.c.id)
    if country:
        code = country.upper()
        keys = keys.where(
            exists().where(countries.c.indicator_id == t.c.id, countries.c.country == code)
        )
    if unit:
        keys = keys.where(t.c.unit == unit)
    if dialogue is not None:
        keys = keys.where(t.c.dialogue_id == dialogue)
    return paging.respond(paging.page(snap, "indicator", keys, order_of(sort, SORTS, t.c.id)), snap)


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
