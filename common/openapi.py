"""The OpenAPI 3.1 document, built from the routes and the pydantic models that validate requests.

Every route given appears (functions/api_docs.py gives all of service.py); its query
parameters, body and answers come from the models the route names, and its error answers from
what the route does (auth, body, query, path parameters) plus the statuses it declares. All
errors share the ErrorBody schema.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, RootModel
from pydantic.json_schema import models_json_schema

from common import __version__
from common.http import ErrorBody
from common.keys import admin_key, webhook_key
from common.routes import EMPTY, Route, model_of
from common.shop.auth import customer, optional_customer


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


_REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Bad request, or a body that is not valid JSON",
    401: "Missing or invalid credentials",
    403: "Not allowed for this customer",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body over 1 MiB",
    415: "Request body is not application/json",
    422: "Validation failed; `errors` names each field",
    503: "Database or upstream service unavailable",
}
_SECURITY_SCHEMES = {
    "WebhookKey": {"type": "apiKey", "in": "header", "name": "X-Webhook-Key"},
    "AdminKey": {"type": "apiKey", "in": "header", "name": "X-Admin-Key"},
    "CustomerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
# Each guard's credentials (the operations page's session is for people, not in the document).
_SECURITY = {
    webhook_key: [{"WebhookKey": []}],
    admin_key: [{"AdminKey": []}],
    customer: [{"CustomerToken": []}],
    optional_customer: [{}, {"CustomerToken": []}],
}


def _error_statuses(route: Route) -> set[int]:
    statuses = {503, *route.errors}
    if route.auth in _SECURITY:
        statuses.add(401)
    if route.auth is customer:
        statuses.add(403)
    if route.body:
        statuses |= {400, 413, 415, 422}
    if route.query:
        statuses.add(422)
    if "{" in route.path:
        statuses.add(404)
    return statuses - set(route.responses)


def _schemas(routes: tuple[Route, ...]) -> tuple[dict, dict, dict]:
    """JSON schemas of every model: request models as validated, answers as serialised. Returns
    each route's models by ModelRef (a route may name a model by the function building it),
    the schema references by (model, mode), and the definitions."""
    models: dict[Any, type[BaseModel]] = {}
    wanted: dict[tuple[type[BaseModel], str], None] = {(ErrorBody, "serialization"): None}
    for route in routes:
        for reference in filter(None, (route.query, route.body)):
            models[reference] = model_of(reference)
            wanted[(models[reference], "validation")] = None
        if route.media_type == "application/json":
            for reference in route.responses.values():
                if reference == EMPTY:
                    continue
                models[reference] = model_of(reference)
                wanted[(models[reference], "serialization")] = None
    mapping, definitions = models_json_schema(list(wanted), ref_template=_REF)
    return models, mapping, definitions.get("$defs", {})


def _query_parameters(schema: dict, definitions: dict) -> list[dict]:
    model = definitions[schema["$ref"].rsplit("/", 1)[1]]
    required = set(model.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {key: value for key, value in prop.items() if key not in ("title", "description")},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in model.get("properties", {}).items()
    ]


def _operation(route: Route, models: dict, refs: dict, definitions: dict) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, reference in sorted(route.responses.items()):
        if reference == EMPTY:
            responses[str(status)] = {
                "description": "Success, no content",
                "headers": {"X-Request-ID": {"$ref": "#/components/headers/RequestId"}},
            }
            continue
        if route.media_type == "application/json":
            content = {"application/json": {"schema": refs[(models[reference], "serialization")]}}
        else:
            content = {route.media_type: {"schema": {"type": "string"}}}
        responses[str(status)] = {
            "description": "Success" if status < 300 else "See body",
            "headers": {"X-Request-ID": {"$ref": "#/components/headers/RequestId"}},
            "content": content,
        }
    for status in sorted(_error_statuses(route)):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": route.path_params.get(name, {"type": "string"})}
        for name in re.findall(r"\{(\w+)\}", route.path)
    ]
    parameters += [
        {"name": name, "in": "header", "required": True, "schema": schema}
        for name, schema in route.header_params.items()
    ]
    if route.query:
        parameters += _query_parameters(refs[(models[route.query], "validation")], definitions)
    operation: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "tags": [route.tag],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if route.body:
        operation["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": refs[(models[route.body], "validation")]}},
        }
    if route.auth in _SECURITY:
        operation["security"] = _SECURITY[route.auth]
    return operation


def _error_responses(error_schema: dict) -> dict[str, Any]:
    return {
        f"Error{status}": {
            "description": text,
            "headers": {"X-Request-ID": {"$ref": "#/components/headers/RequestId"}},
            "content": {"application/json": {"schema": error_schema}},
        }
        for status, text in _ERROR_TEXT.items()
    }


def openapi_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    models, refs, definitions = _schemas(routes)
    paths: dict[str, dict] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, models, refs, definitions)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "TSH ERP functions",
            "version": __version__,
            "description": "Zoho Books/Inventory sync and the mobile shop BFF of TSH. Money is whole Iraqi dinars.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions,
            "responses": _error_responses(refs[(ErrorBody, "serialization")]),
            "headers": {
                "RequestId": {"description": "Id of this request, also in the logs", "schema": {"type": "string"}}
            },
            "securitySchemes": _SECURITY_SCHEMES,
        },
    }
