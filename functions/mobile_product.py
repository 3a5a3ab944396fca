"""GET /api/mobile/products/{product_id}: one product with reviews and related products."""

from common.http import ApiRequest, cached_json_response, http_function
from common.shop.catalog import product_detail


def _product(request: ApiRequest):
    detail = product_detail(request.path_id("product_id", "Product not found"))
    return cached_json_response(request, detail, "public, max-age=60")


mobile_product = http_function("mobile_product", mobile_product=_product)
