"""A shorter way into the read endpoints for requests whose parameters are valid.

FastAPI resolves an endpoint's parameters one at a time, looking through each annotation
again on every request: about 10 µs a parameter (FastAPI 0.165), which for a list with a
dozen parameters is most of an uncached request. `FastRoute` checks all of a route's query
and path parameters with one pydantic model, built once from FastAPI's own fields (the same
types and constraints), then calls the endpoint and its plain dependencies directly.

A request the model refuses goes to FastAPI's own handler, which refuses it the usual way: so
the 422 documents, like the OpenAPI description, are exactly FastAPI's. A route with anything
else to resolve (headers, cookies, a body, a dependency with `yield`) always goes that way.
"""

import inspect
import types
import typing
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _effective_route_context_var
from pydantic import BaseModel, ValidationError, create_model
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def is_many(annotation: Any) -> bool:
    """A list parameter (`?area=a&area=b`), possibly optional."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(is_many(arg) for arg in typing.get_args(annotation))
    return typing.get_origin(annotation) in (list, set, tuple)


class Call:
    """One callable of the route (a dependency or the endpoint) and what it is given."""

    def __init__(self, dependant: Dependant, params: list[str]):
        if dependant.call is None:
            raise TypeError("nothing to call")
        self.function = dependant.call
        self.name = dependant.name or ""
        self.request = dependant.request_param_name
        self.params = params
        self.is_async = inspect.iscoroutinefunction(dependant.call)

    async def __call__(self, request: Request, values: dict[str, Any]) -> Any:
        kwargs = {name: values[name] for name in self.params}
        if self.request:
            kwargs[self.request] = request
        result = self.function(**kwargs)
        return await result if self.is_async else result


class Parser:
    """All of a route's parameters in one model; `None` when the route needs FastAPI's way."""

    def __init__(self, dependant: Dependant):
        self.calls: list[Call] = []
        self.query: list[tuple[str, bool]] = []  # (alias, many)
        self.path: list[str] = []
        fields: dict[str, Any] = {}
        for level in [*dependant.dependencies, dependant]:
            nested = level is not dependant and level.dependencies
            if nested or not self.simple(level) or (level is not dependant and not level.name):
                raise TypeError("not a plain read route")
            for field in [*level.query_params, *level.path_params]:
                if field.name in fields:
                    raise TypeError(f"parameter {field.name} is declared twice")
                fields[field.name] = (field.field_info.annotation, field.field_info)
            self.query += [(f.alias, is_many(f.field_info.annotation)) for f in level.query_params]
            self.path += [f.alias for f in level.path_params]
            params = [f.name for f in [*level.query_params, *level.path_params]]
            if level is dependant:  # the endpoint is given its dependencies' results too
                params += [d.name or "" for d in dependant.dependencies]
            self.calls.append(Call(level, params))
        self.model: type[BaseModel] = create_model("Parameters", **fields)

    @staticmethod
    def simple(level: Dependant) -> bool:
        function = level.call
        return (
            function is not None
            and not (inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function))
            and not (level.header_params or level.cookie_params or level.body_params)
            and not (level.websocket_param_name or level.http_connection_param_name)
            and not (level.response_param_name or level.background_tasks_param_name)
            and not level.security_scopes_param_name
        )

    def values(self, request: Request) -> dict[str, Any] | None:
        given: dict[str, Any] = {}
        query = request.query_params
        for alias, many in self.query:
            if many:
                listed = query.getlist(alias)
                if listed:
                    given[alias] = listed
            elif alias in query:
                given[alias] = query[alias]
        path = request.path_params
        for alias in self.path:
            given[alias] = path[alias]
        try:
            return dict(self.model.model_validate(given).__dict__)
        except ValidationError:
            return None  # FastAPI's way will say what is wrong

    async def __call__(self, request: Request, values: dict[str, Any]) -> Response:
        *dependencies, endpoint = self.calls
        for dependency in dependencies:
            values[dependency.name] = await dependency(request, values)
        return await endpoint(request, values)


class FastRoute(APIRoute):
    """An APIRoute whose valid requests skip FastAPI's per-parameter resolution."""

    def get_route_handler(self) -> Handler:
        fastapi_way = super().get_route_handler()
        context = _effective_route_context_var.get()  # the route as included, if it is
        effective = context if context is not None and context.original_route is self else self
        try:
            parser = Parser(effective.dependant)
        except TypeError:
            return fastapi_way

        async def handler(request: Request) -> Response:
            values = parser.values(request)
            if values is None:
                return await fastapi_way(request)
            return await parser(request, values)

        return handler
