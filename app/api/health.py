from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from app.schemas import Health, Ready

router = APIRouter(tags=["health"])
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/health", summary="Liveness", response_model=Health)
async def health() -> JSONResponse:
    """The process is up. It does not touch the database."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get(
    "/ready",
    summary="Readiness",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "Not ready: see `database` and `schema`."}},
)
def ready(request: Request) -> JSONResponse:
    """Ready when the database answers, its schema is at the head migration, and it holds a
    loaded dataset; 503 otherwise, saying which."""
    state = request.app.state
    try:
        with state.reader.snapshot() as snap:
            version = snap.version
            revision = snap.value("SELECT version_num FROM alembic_version")
    except SQLAlchemyError:
        body = Ready(
            status="unavailable", database="down", schema_revision=None, dataset_version=None
        )
        return JSONResponse(body.model_dump(), status_code=503, headers=NO_STORE)
    at_head = revision == state.head_revision
    ok = at_head and version is not None
    headers = {**NO_STORE, "X-Dataset-Version": str(version or 0)}
    body = Ready(
        status="ready" if ok else "unavailable",
        database="up",
        schema_revision=revision,
        schema_at_head=at_head,
        dataset_version=version,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503, headers=headers)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    response_class=Response,
)
def metrics(request: Request) -> Response:
    """Request counts and latency histograms by route template, response cache hits, and the
    dataset version this worker serves (as a label of `dataset_info`)."""
    state = request.app.state
    state.metrics.serving(state.reader.clock.get())
    body = generate_latest(state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
