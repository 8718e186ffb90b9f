"""Every error a client can get, in one shape: RFC 9457 problem details."""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException

from app.api.deps import BadParameter, NotAcceptable, NotFound
from app.api.lists import BadCursor
from app.read import DatabaseTimeout

log = logging.getLogger("app.errors")
PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    414: "URI too long",
    422: "Invalid parameter",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for these error statuses, with the media type really sent."""
    from app.schemas import Problem

    return {
        status: {
            "description": TITLES[status],
            "model": Problem,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "request"
        name = ".".join(loc[1:]) or where
        out.append({"parameter": name, "in": where, "reason": err.get("msg", "invalid")})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['parameter']}: {e['reason']}" for e in errors)
        return problem(422, detail, request.url.path, errors=errors)

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter) -> JSONResponse:
        errors = [{"parameter": exc.parameter, "in": "query", "reason": exc.reason}]
        return problem(422, str(exc), request.url.path, errors=errors)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, exc.detail, request.url.path)

    @app.exception_handler(BadCursor)
    async def bad_cursor(request: Request, exc: BadCursor) -> JSONResponse:
        errors = [{"parameter": "cursor", "in": "query", "reason": exc.reason}]
        return problem(400, f"cursor: {exc.reason}", request.url.path, errors=errors)

    @app.exception_handler(NotAcceptable)
    async def not_acceptable(request: Request, exc: NotAcceptable) -> JSONResponse:
        return problem(406, str(exc), request.url.path, available=exc.offered)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem(exc.status_code, detail, request.url.path, headers=exc.headers)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value the request carried: the client's input, not an outage.
        log.warning("database refused a value: %s", type(exc).__name__)
        return problem(422, "a parameter holds a value the database cannot take", request.url.path)

    @app.exception_handler(DatabaseTimeout)
    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem(
            503,
            "the database is unavailable; try again shortly",
            request.url.path,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged", request.url.path)
