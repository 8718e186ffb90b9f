from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
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
    responses={503: {"model": Ready, "description": "Not ready: database down or no dataset."}},
)
def ready(request: Request) -> JSONResponse:
    """The database answers and holds a loaded dataset."""
    try:
        with request.app.state.reader.snapshot() as snap:
            version = snap.version
    except SQLAlchemyError:
        body = Ready(status="unavailable", database="down", dataset_version=None)
        return JSONResponse(body.model_dump(), status_code=503, headers=NO_STORE)
    if version is None:
        body = Ready(status="unavailable", database="up", dataset_version=None)
        return JSONResponse(body.model_dump(), status_code=503, headers=NO_STORE)
    body = Ready(status="ready", database="up", dataset_version=version)
    return JSONResponse(body.model_dump(), headers=NO_STORE)
