"""The API's own documentation: GET /openapi.json, and Swagger UI at GET /docs (assets served locally)."""

from functools import cache

from werkzeug.wrappers import Response

from common.docs import ASSETS, INDEX_HTML, asset
from common.http import ApiRequest, cached_response, http_function, json_response
from common.openapi import OpenApiDocument, openapi_document
from common.routes import route


@route(
    method="GET",
    path="/openapi.json",
    operation="openapi",
    summary="This OpenAPI document",
    tag="docs",
    responses={200: OpenApiDocument},
)
def openapi(request: ApiRequest):
    return json_response(_document(), headers={"Cache-Control": "public, max-age=300"})


@cache
def _document() -> dict:
    from service import ROUTES  # every function's module: only this route needs them all

    return openapi_document(ROUTES)


@route(
    method="GET",
    path="/docs",
    operation="docs_ui",
    summary="Swagger UI (served offline)",
    tag="docs",
    responses={200: "html"},
    media_type="text/html",
)
def docs_ui(request: ApiRequest):
    return Response(INDEX_HTML, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@route(
    method="GET",
    path="/docs/{asset}",
    operation="docs_asset",
    summary="Swagger UI assets",
    tag="docs",
    responses={200: "asset"},
    media_type="*/*",
    errors=(404,),
    path_params={"asset": {"type": "string", "enum": sorted(ASSETS)}},
)
def docs_asset(request: ApiRequest):
    content, media_type = asset(request.params["asset"])
    return cached_response(request, content, media_type, "public, max-age=86400")


api_docs = http_function("api_docs", openapi, docs_ui, docs_asset)
