"""The API's own documentation: GET /openapi.json, and Swagger UI at GET /docs (assets served locally)."""

from werkzeug.wrappers import Response

from common.docs import INDEX_HTML, asset
from common.http import ApiRequest, cached_response, http_function, json_response
from common.openapi import openapi_document


def _openapi(request: ApiRequest):
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})


def _docs_ui(request: ApiRequest):
    return Response(INDEX_HTML, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


def _docs_asset(request: ApiRequest):
    content, media_type = asset(request.params["asset"])
    return cached_response(request, content, media_type, "public, max-age=86400")


api_docs = http_function("api_docs", openapi=_openapi, docs_ui=_docs_ui, docs_asset=_docs_asset)
