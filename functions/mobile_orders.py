"""The signed-in customer's orders: place one from the cart, list them, read one, cancel one."""

from common.errors import BadRequest
from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.routes import route
from common.shop.auth import customer
from common.shop.orders import cancel_order, get_order, list_orders, place_order
from common.shop.schemas import CustomerScope, Order, OrderCreate, OrderListQuery, OrderPage

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_LENGTHS = range(8, 129)
_ORDER_ID = {"order_id": {"type": "integer", "minimum": 1}}
_NOT_FOUND = "Order not found"
_TAG = "orders"


def _answer(body, status: int = 200):
    return json_response(body, status, headers={"Cache-Control": NO_STORE})


@route(
    method="POST",
    path="/api/mobile/orders",
    operation="order_place",
    summary="Place an order from the cart (header Idempotency-Key, 8-128 characters): 201, or 200 for a repeated key",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    body=OrderCreate,
    responses={201: Order, 200: Order},
    errors=(400, 409),
    header_params={IDEMPOTENCY_HEADER: {"type": "string", "minLength": 8, "maxLength": 128}},
)
def place_from_cart(request: ApiRequest):
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        raise BadRequest(f"The header {IDEMPOTENCY_HEADER} is required: a new random value for each order")
    if len(key) not in _KEY_LENGTHS or not key.isascii() or not key.isprintable():
        raise BadRequest(f"{IDEMPOTENCY_HEADER} must be 8 to 128 printable ASCII characters")
    order, placed_now = place_order(request.customer.id, key, request.json_model(OrderCreate))
    return _answer(order, 201 if placed_now else 200)


@route(
    method="GET",
    path="/api/mobile/orders",
    operation="order_list",
    summary="The customer's orders, newest first, a page at a time",
    tag=_TAG,
    auth=customer,
    query=OrderListQuery,
    responses={200: OrderPage},
)
def list_page(request: ApiRequest):
    query = request.query_model(OrderListQuery)
    return _answer(list_orders(request.customer.id, query.cursor, query.limit))


@route(
    method="GET",
    path="/api/mobile/orders/{order_id}",
    operation="order_detail",
    summary="One of the customer's orders: lines, totals, address, status timeline",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    path_params=_ORDER_ID,
    responses={200: Order},
    errors=(404,),
)
def show_order(request: ApiRequest):
    return _answer(get_order(request.customer.id, request.path_id("order_id", _NOT_FOUND)))


@route(
    method="POST",
    path="/api/mobile/orders/{order_id}/cancel",
    operation="order_cancel",
    summary="Cancel a placed or confirmed order (its stock is released, its Zoho sales order voided)",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    path_params=_ORDER_ID,
    responses={200: Order},
    errors=(404, 409),
)
def cancel_one(request: ApiRequest):
    return _answer(cancel_order(request.customer.id, request.path_id("order_id", _NOT_FOUND)))


mobile_orders = http_function("mobile_orders", place_from_cart, list_page, show_order, cancel_one)
