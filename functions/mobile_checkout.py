"""GET /api/mobile/checkout: the signed-in customer's priced cart, addresses and checkout choices."""

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.routes import route
from common.shop.auth import customer
from common.shop.checkout import checkout
from common.shop.schemas import Checkout, CheckoutQuery


@route(
    method="GET",
    path="/api/mobile/checkout",
    operation="mobile_checkout",
    summary="Checkout: the priced cart, addresses, payment and delivery options, promotions, issues",
    tag="mobile",
    auth=customer,
    query=CheckoutQuery,
    responses={200: Checkout},
)
def show_checkout(request: ApiRequest):
    query = request.query_model(CheckoutQuery)
    return json_response(checkout(request.customer.id, query.delivery_option), headers={"Cache-Control": NO_STORE})


mobile_checkout = http_function("mobile_checkout", show_checkout)
