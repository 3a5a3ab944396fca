"""GET /api/mobile/search: folded, typo-tolerant product search with filters, sorts and pages."""

from common.http import ApiRequest, http_function, json_response
from common.routes import route
from common.shop.schemas import SearchPage, SearchQuery
from common.shop.search import search


@route(
    method="GET",
    path="/api/mobile/search",
    operation="mobile_search",
    summary="Search products (Arabic and English, typo-tolerant) with filters, sorts and pages",
    tag="mobile",
    query=SearchQuery,
    responses={200: SearchPage},
    errors=(400,),
)
def search_products(request: ApiRequest):
    return json_response(search(request.query_model(SearchQuery)), headers={"Cache-Control": "public, max-age=30"})


mobile_search = http_function("mobile_search", search_products)
