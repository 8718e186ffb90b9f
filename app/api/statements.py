from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import NOT_FOUND, SLUG_PATTERN, document_or_404, reads
from app.api.lists import LIST_RESPONSES, PagingDep
from app.read import Column, Keys, Order, Snapshot
from app.schemas import Page, StatementPublic

router = APIRouter(prefix="/statements", tags=["statements"])
ORDER = Order(None, Column("t.id", int))
NAMING = (
    "SELECT CAST(fact_id AS INTEGER) FROM mention WHERE entity_slug = ? AND fact_type = 'statement'"
)


@router.get(
    "",
    summary="List statements (assessments)",
    response_model=Page[StatementPublic],
    responses=LIST_RESPONSES,
)
@reads
def list_statements(
    snap: Snapshot,
    paging: PagingDep,
    dialogue: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Dialogue id.")] = None,
    mentions: Annotated[
        str | None,
        Query(
            pattern=SLUG_PATTERN,
            max_length=80,
            description="Entity slug (see `/entities`): the statements that name it.",
            examples=["wto"],
        ),
    ] = None,
) -> Response:
    """Assessments that commit no one ("partners, not rivals"), kept apart from commitments."""
    keys = Keys("statements", "statement")
    if dialogue is not None:
        keys = keys.filter("t.dialogue_id = ?", dialogue)
    if mentions:
        keys = keys.filter(f"t.id IN ({NAMING})", mentions, facet=("mentions", mentions))
    return paging.respond(paging.page(snap, "statement", keys, ORDER), snap)


@router.get(
    "/{statement_id}", summary="One statement", response_model=StatementPublic, responses=NOT_FOUND
)
@reads
def get_statement(
    snap: Snapshot,
    statement_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="The statement's id.", examples=[1])
    ],
) -> Response:
    """An assessment with its speaker and evidence."""
    return document_or_404(snap, "statement", str(statement_id), "statement")
