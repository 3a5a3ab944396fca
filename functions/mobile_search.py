"""GET /api/mobile/search: folded, typo-tolerant product search with filters, sorts and pages."""

from common.http import ApiRequest, http_function, json_response
from common.shop.schemas import SearchQuery
from common.shop.search import search


def _search(request: ApiRequest):
    return json_response(search(request.query_model(SearchQuery)), headers={"Cache-Control": "public, max-age=30"})


mobile_search = http_function("mobile_search", mobile_search=_search)
