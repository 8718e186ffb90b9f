from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import (
    NOT_FOUND,
    SLUG_PATTERN,
    BadParameter,
    CountryCode,
    document_or_404,
    order_of,
    reads,
    with_words,
)
from app.api.lists import LIST_RESPONSES, SORT_HELP, PagingDep
from app.read import Column, Keys, Order, Snapshot, placeholders
from app.schemas import CommitmentPublic, Page

router = APIRouter(prefix="/commitments", tags=["commitments"])
KEY = Column("t.id", int)
SORTS = {"id": KEY, "point": Column("t.point", int), "dialogue": Column("t.dialogue_id", int)}
# A linked filter (area, country, entity) drives the query from its own index when it matches
# at most this many commitments (cost: the matches); a commoner one is checked row by row
# while the list is walked in order (cost: about the page's length over the filter's share).
FEW = 2000
LINKS = {
    "area": ("commitment_area", "commitment_id", "area_slug", ""),
    "country": ("commitment_country", "commitment_id", "country", ""),
    "mentions": (
        "mention",
        "CAST(fact_id AS INTEGER)",
        "entity_slug",
        " AND fact_type = 'commitment'",
    ),
}


def linked(snap: Snapshot, keys: Keys, name: str, values: list[str], listing: str = "") -> Keys:
    """`keys` less the commitments not linked to any of `values` by the link table `name`;
    with a `listing`, a value the vocabulary lacks is refused (422), naming where to look."""
    table, fact, column, extra = LINKS[name]
    marks = placeholders(values)
    facet = (name, values[0]) if len(values) == 1 else None
    totals = {value: snap.stored_total("commitments", name, value) for value in values}
    unknown = sorted(value for value, total in totals.items() if total is None)
    if unknown and listing:
        named = ", ".join(map(repr, unknown))
        raise BadParameter(name, f"unknown {name} {named}: see {listing}")
    matches = sum(total or 0 for total in totals.values())
    if matches <= FEW:
        sql = f"t.id IN (SELECT {fact} FROM {table} WHERE {column} IN ({marks}){extra})"
    else:
        fact_of_row = "CAST(t.id AS TEXT)" if name == "mentions" else "t.id"
        own = "fact_id" if name == "mentions" else fact
        sql = (
            f"EXISTS (SELECT 1 FROM {table} WHERE {own} = {fact_of_row}{extra}"
            f" AND {column} IN ({marks}))"
        )
    return keys.filter(sql, *values, facet=facet)


@router.get(
    "",
    summary="List commitments and proposals",
    response_model=Page[CommitmentPublic],
    responses=LIST_RESPONSES,
)
@reads
def list_commitments(
    snap: Snapshot,
    paging: PagingDep,
    area: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="Area slug (see `/areas`); repeat it to match any of several.",
            examples=["digital"],
        ),
    ] = None,
    country: CountryCode = None,
    dialogue: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Dialogue id.")] = None,
    kind: Annotated[
        Literal["proposal", "joint"] | None,
        Query(description="`proposal`: one side's call; `joint`: reached by both sides."),
    ] = None,
    mentions_: Annotated[
        str | None,
        Query(
            alias="mentions",
            pattern=SLUG_PATTERN,
            max_length=80,
            description="Entity slug (see `/entities`).",
            examples=["rcep"],
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1, max_length=200, description="Words that must all appear in the statement."
        ),
    ] = None,
    sort: Annotated[
        Literal["id", "-id", "point", "-point", "dialogue", "-dialogue"],
        Query(description=SORT_HELP),
    ] = "id",
) -> Response:
    """What each side proposed and what both sides agreed, each with its evidence.

    A joint commitment matches either country; a proposal matches its speaker's country."""
    keys = Keys("commitments", "commitment")
    if area:
        keys = linked(snap, keys, "area", area, listing="/areas")
    if country:
        keys = linked(snap, keys, "country", [country.upper()])
    if dialogue is not None:
        keys = keys.filter("t.dialogue_id = ?", dialogue, facet=("dialogue", str(dialogue)))
    if kind:
        keys = keys.filter("t.kind = ?", kind, facet=("kind", kind))
    if mentions_:
        keys = linked(snap, keys, "mentions", [mentions_])
    if q:
        keys = with_words(keys, "t.statement", q)
    order = order_of(sort, SORTS, KEY)
    alone = len(keys.where) == 1 and order.column is None  # one filter, in id order
    if alone and area and len(area) == 1:
        keys, order = walk_link("area", area[0], order)
    elif alone and country:
        keys, order = walk_link("country", country.upper(), order)
    return paging.respond(paging.page(snap, "commitment", keys, order), snap)


def walk_link(name: str, value: str, order: Order) -> tuple[Keys, Order]:
    """The commonest list, one area (or country) in id order, is a range of the link table's
    own index: any page of it, first or deep, costs its length on both databases."""
    table, fact, column, _ = LINKS[name]
    keys = Keys("commitments", table).filter(f"t.{column} = ?", value, facet=(name, value))
    return keys, Order(None, Column(f"t.{fact}", int), order.descending)


@router.get(
    "/{commitment_id}",
    summary="One commitment",
    response_model=CommitmentPublic,
    responses=NOT_FOUND,
)
@reads
def get_commitment(
    snap: Snapshot,
    commitment_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="The commitment's id.", examples=[7])
    ],
) -> Response:
    """A commitment or proposal with its areas, entities and evidence."""
    return document_or_404(snap, "commitment", str(commitment_id), "commitment")
