"""Cart changes of the signed-in customer: add, set the quantity of, and remove a product's line.

A `?customer_id=` other than the token's is 403, as on checkout.

Each answers with the priced cart, as checkout shows it.
"""

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.routes import route
from common.shop.auth import customer
from common.shop.cart import add_item, remove_item, set_quantity
from common.shop.schemas import Cart, CartItemAdd, CartItemQuantity, CustomerScope

_PRODUCT_ID = {"product_id": {"type": "integer", "minimum": 1}}


def _answer(cart):
    return json_response(cart, headers={"Cache-Control": NO_STORE})


@route(
    method="POST",
    path="/api/mobile/cart/items",
    operation="cart_add_item",
    summary="Add a quantity of a product to the cart",
    tag="mobile",
    auth=customer,
    query=CustomerScope,
    body=CartItemAdd,
    responses={200: Cart},
    errors=(404, 409),
)
def add_to_cart(request: ApiRequest):
    item = request.json_model(CartItemAdd)
    return _answer(add_item(request.customer.id, item.product_id, item.quantity))


@route(
    method="PATCH",
    path="/api/mobile/cart/items/{product_id}",
    operation="cart_update_item",
    summary="Set the quantity of a product in the cart",
    tag="mobile",
    auth=customer,
    query=CustomerScope,
    path_params=_PRODUCT_ID,
    body=CartItemQuantity,
    responses={200: Cart},
    errors=(409,),
)
def update_cart_item(request: ApiRequest):
    product_id = request.path_id("product_id", "Product not found")
    change = request.json_model(CartItemQuantity)
    return _answer(set_quantity(request.customer.id, product_id, change.quantity))


@route(
    method="DELETE",
    path="/api/mobile/cart/items/{product_id}",
    operation="cart_remove_item",
    summary="Remove a product from the cart",
    tag="mobile",
    auth=customer,
    query=CustomerScope,
    path_params=_PRODUCT_ID,
    responses={200: Cart},
)
def remove_cart_item(request: ApiRequest):
    return _answer(remove_item(request.customer.id, request.path_id("product_id", "Product not found")))


mobile_cart = http_function("mobile_cart", add_to_cart, update_cart_item, remove_cart_item)
