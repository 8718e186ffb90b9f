from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import (
    NOT_FOUND,
    NotAcceptable,
    NotFound,
    json_bytes,
    negotiate,
    reads,
    stamp_version,
)
from app.api.lists import LIST_RESPONSES, PagingDep
from app.read import Column, Keys, Order, Snapshot
from app.schemas import Page, SourceDetail, SourcePublic
from app.viewer import HTML, render_source

router = APIRouter(prefix="/sources", tags=["sources"])
ORDER = Order(None, Column("t.id", str))


@router.get("", summary="List sources", response_model=Page[SourcePublic], responses=LIST_RESPONSES)
@reads
def list_sources(snap: Snapshot, paging: PagingDep) -> Response:
    """The documents the facts are drawn from (stored, byte-exact) and the pages they cite."""
    keys = Keys("sources", "source")
    return paging.respond(paging.page(snap, "source_summary", keys, ORDER), snap)


# JSON first: it wins a tie, so no Accept, `*/*` and `application/json` all get JSON.
SOURCE_MEDIA = ["application/json", HTML]
SOURCE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The source as JSON; or, when the Accept header prefers `text/html` "
        "over `application/json` (as a browser's does), the provenance viewer: an HTML page "
        "of the text with every evidence span marked and linked to the fact it supports.",
        "content": {
            HTML: {
                "schema": {"type": "string"},
                "example": '<!doctype html>... <a href="/commitments/7">...</a> ...',
            }
        },
        "headers": {
            "Vary": {
                "description": "`Accept`: the JSON and the HTML share this URL.",
                "schema": {"type": "string"},
            }
        },
    },
    **NOT_FOUND,
}


def prefers_html(request: Request) -> bool:
    try:
        return negotiate(request, SOURCE_MEDIA) == HTML
    except NotAcceptable:
        return False  # neither is acceptable: JSON, as for every other resource


@router.get(
    "/{source_id}",
    summary="One source with its text",
    response_model=SourceDetail,
    responses=SOURCE_RESPONSES,
)
@reads
def get_source(
    request: Request,
    snap: Snapshot,
    source_id: Annotated[
        str, Path(max_length=100, description="The source's id.", examples=["mfa-cn-2025-03-22"])
    ],
) -> Response:
    """The source's metadata, full text, page furniture excluded from evidence, and every
    evidence span drawn from it with the fact it supports.

    A browser (Accept preferring `text/html`) gets the same document as a page: the text with
    every evidence span highlighted and linked to its fact, and the facts listed by kind."""
    body = snap.document("source", source_id)
    if body is None:
        raise NotFound("source", source_id)
    response: Response
    if prefers_html(request):
        response = HTMLResponse(render_source(SourceDetail.model_validate_json(body)))
    else:
        response = json_bytes(body, snap)
    response.headers["Vary"] = "Accept"
    return stamp_version(response, snap)
