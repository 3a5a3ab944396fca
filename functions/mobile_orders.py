"""The signed-in customer's orders: place one from the cart, list them, read one, cancel one."""

from common.errors import BadRequest
from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.shop.orders import cancel_order, get_order, list_orders, place_order
from common.shop.schemas import OrderCreate, OrderListQuery

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_LENGTHS = range(8, 129)


def _answer(body, status: int = 200):
    return json_response(body, status, headers={"Cache-Control": NO_STORE})


def _place(request: ApiRequest):
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        raise BadRequest(f"The header {IDEMPOTENCY_HEADER} is required: a new random value for each order")
    if len(key) not in _KEY_LENGTHS or not key.isascii() or not key.isprintable():
        raise BadRequest(f"{IDEMPOTENCY_HEADER} must be 8 to 128 printable ASCII characters")
    order, placed_now = place_order(request.customer.id, key, request.json_model(OrderCreate))
    return _answer(order, 201 if placed_now else 200)


def _list(request: ApiRequest):
    query = request.query_model(OrderListQuery)
    return _answer(list_orders(request.customer.id, query.cursor, query.limit))


def _detail(request: ApiRequest):
    return _answer(get_order(request.customer.id, request.path_id("order_id", "Order not found")))


def _cancel(request: ApiRequest):
    return _answer(cancel_order(request.customer.id, request.path_id("order_id", "Order not found")))


mobile_orders = http_function(
    "mobile_orders", order_place=_place, order_list=_list, order_detail=_detail, order_cancel=_cancel
)
