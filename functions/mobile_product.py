"""GET /api/mobile/products/{product_id}: one product with reviews and related products."""

from common.http import ApiRequest, cached_json_response, http_function
from common.routes import route
from common.shop.catalog import product_detail
from common.shop.schemas import ProductDetail


@route(
    method="GET",
    path="/api/mobile/products/{product_id}",
    operation="mobile_product",
    summary="Product detail with rating histogram, latest reviews and related products",
    tag="mobile",
    path_params={"product_id": {"type": "integer", "minimum": 1}},
    responses={200: ProductDetail},
)
def show_product(request: ApiRequest):
    detail = product_detail(request.path_id("product_id", "Product not found"))
    return cached_json_response(request, detail, "public, max-age=60")


mobile_product = http_function("mobile_product", show_product)
