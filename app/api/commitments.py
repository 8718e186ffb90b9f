from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import exists, select

from app.api.deps import (
    NOT_FOUND,
    SLUG_PATTERN,
    CountryCode,
    document_or_404,
    order_of,
    reads,
    require_known,
    words_filter,
)
from app.api.lists import LIST_RESPONSES, SORT_HELP, PagingDep
from app.models import Area, Commitment, CommitmentArea, CommitmentCountry, Dialogue, Mention
from app.read import Snapshot
from app.schemas import CommitmentPublic, Page

router = APIRouter(prefix="/commitments", tags=["commitments"])
t = Commitment.__table__  # type: ignore[attr-defined]
areas = CommitmentArea.__table__  # type: ignore[attr-defined]
countries = CommitmentCountry.__table__  # type: ignore[attr-defined]
mentions = Mention.__table__  # type: ignore[attr-defined]
dialogues = Dialogue.__table__  # type: ignore[attr-defined]
SORTS = {"id": t.c.id, "point": t.c.point, "dialogue": t.c.dialogue_id}


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
    keys = select(t.c.id)
    if area:
        require_known(snap, Area.slug, area, "area", "/areas")
        keys = keys.where(
            exists().where(areas.c.commitment_id == t.c.id, areas.c.area_slug.in_(area))
        )
    if country:
        keys = keys.where(
            exists().where(
                countries.c.commitment_id == t.c.id, countries.c.country == country.upper()
            )
        )
    if dialogue is not None:
        keys = keys.where(t.c.dialogue_id == dialogue)
    if kind:
        keys = keys.where(t.c.kind == kind)
    if mentions_:
        keys = keys.where(
            exists().where(
                mentions.c.fact_type == "commitment",
                mentions.c.fact_id == t.c.id.cast(mentions.c.fact_id.type),
                mentions.c.entity_slug == mentions_,
            )
        )
    if q:
        keys = keys.where(*words_filter(t.c.statement, q))
    return paging.respond(
        paging.page(snap, "commitment", keys, order_of(sort, SORTS, t.c.id)), snap
    )


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
