"""How a route is declared, and how a request finds its route.

A route is declared once, beside its handler in functions/, with the `route` decorator:

    @route(method="GET", path="/api/zoho/dashboard/stats", operation="dashboard_stats",
           summary="...", tag="zoho dashboard", auth=admin_key, query=StatsQuery,
           responses={200: SyncStats})
    def dashboard_stats(request: ApiRequest): ...

The decorator turns the handler into a `Route` holding the handler itself, its guard (a
function, or None for a public route) and its models (classes). `common.http.http_function`
bundles a module's routes into one deployable function; service.py lists every
function, and the hosts, the OpenAPI document and the deployment checks read the routes from
there. common/ never imports functions/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from common.errors import MethodNotAllowed, NotFound

if TYPE_CHECKING:
    from common.http import ApiRequest

Handler = Callable[["ApiRequest"], Any]
# A route's auth: checks the caller (401, 403, or an answer of its own such as a redirect to a
# login page), notes who it is on the request, and calls the handler. The HTTP edge
# (common.http.handle) runs it before the handler.
Guard = Callable[["ApiRequest", Handler], Any]
# A request or answer model, or a function building it on first use (the webhooks' body
# unions take a noticeable part of a cold start to build, and only the OpenAPI document needs them).
ModelRef = type[BaseModel] | Callable[[], type[BaseModel]]


# A success answer without a body (204), in a route's `responses`.
EMPTY = "empty"


def model_of(reference: ModelRef) -> type[BaseModel]:
    """The model a route names, built now when the route names it by a function."""
    return reference if isinstance(reference, type) else reference()


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str
    operation: str  # unique operation id
    summary: str
    tag: str
    handler: Handler
    auth: Guard | None = None  # None: public
    query: type[BaseModel] | None = None
    body: ModelRef | None = None
    body_required: bool = True  # False: a missing body means the model's defaults (a filter of nothing)
    # Success (and other documented) answers: a model for JSON, a word for other media types.
    responses: Mapping[int, ModelRef | str] = field(default_factory=dict)
    # JSON schemas of the {path} parameters (default: a string), and the statuses this route
    # answers beyond those its auth, body and query imply (see common.openapi).
    path_params: Mapping[str, dict] = field(default_factory=dict)
    header_params: Mapping[str, dict] = field(default_factory=dict)  # required request headers and their schemas
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"  # of the success answer
    entity: str | None = None  # the {entity} of a webhook route (common.sync.entities.BY_ROUTE)
    function: str = ""  # the deployable function serving it, set by common.http.http_function
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.auth is not None and not callable(self.auth):
            raise TypeError(f"{self.operation}: auth must be a guard function or None, not {self.auth!r}")
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        return found.groupdict() if found else None

    def served_by(self, function: str) -> Route:
        return replace(self, function=function)


def route(**declaration: Any) -> Callable[[Handler], Route]:
    """Declare the decorated handler's route (keyword arguments: the fields of `Route`)."""

    def declare(handler: Handler) -> Route:
        return Route(handler=handler, **declaration)

    return declare


@dataclass(frozen=True, kw_only=True)
class Schedule:
    job: Callable[..., Any]  # called as job(event, context)
    rate: str  # serverless.yml's schedule expression
    summary: str
    input: dict[str, str] | None = None  # the event the schedule passes to the function

    @property
    def name(self) -> str:
        return self.job.__name__


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """A function with no trigger, run by hand: `npx serverless invoke -f <name>`."""

    job: Callable[..., Any]
    summary: str

    @property
    def name(self) -> str:
        return self.job.__name__


class RouteTable:
    """Matches a request to one of a set of routes: 404 for an unknown path, 405 for a wrong method."""

    def __init__(self, routes: tuple[Route, ...] | list[Route]) -> None:
        self.routes = tuple(routes)
        operations = [declared.operation for declared in self.routes]
        duplicated = sorted({name for name in operations if operations.count(name) > 1})
        if duplicated:
            raise ValueError(f"operation ids declared twice: {', '.join(duplicated)}")

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        if len(path) > 1:
            path = path.rstrip("/")
        method = "GET" if method == "HEAD" else method
        allowed: list[str] = []
        for candidate in self.routes:
            params = candidate.match(path)
            if params is None:
                continue
            if candidate.method == method:
                return candidate, params
            allowed.append(candidate.method)
        if allowed:
            raise MethodNotAllowed(allowed=sorted(set(allowed)))
        raise NotFound("Route not found")
