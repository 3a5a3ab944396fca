"""GET /api/mobile/checkout: the signed-in customer's priced cart, addresses and checkout choices."""

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.shop.checkout import checkout
from common.shop.schemas import CheckoutQuery


def _checkout(request: ApiRequest):
    query = request.query_model(CheckoutQuery)
    return json_response(checkout(request.customer.id, query.delivery_option), headers={"Cache-Control": NO_STORE})


mobile_checkout = http_function("mobile_checkout", mobile_checkout=_checkout)
