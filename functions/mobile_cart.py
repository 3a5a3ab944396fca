"""Cart changes of the signed-in customer: add, set the quantity of, and remove a product's line;
apply and remove a promotion code.

A `?customer_id=` other than the token's is 403, as on checkout.

Each answers with the priced cart, as checkout shows it.
"""

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.shop.cart import add_item, remove_item, set_quantity
from common.shop.promo_codes import apply_code, remove_code
from common.shop.schemas import CartItemAdd, CartItemQuantity, PromoCodeApply


def _answer(cart):
    return json_response(cart, headers={"Cache-Control": NO_STORE})


def _add(request: ApiRequest):
    item = request.json_model(CartItemAdd)
    return _answer(add_item(request.customer.id, item.product_id, item.quantity))


def _update(request: ApiRequest):
    product_id = request.path_id("product_id", "Product not found")
    change = request.json_model(CartItemQuantity)
    return _answer(set_quantity(request.customer.id, product_id, change.quantity))


def _remove(request: ApiRequest):
    return _answer(remove_item(request.customer.id, request.path_id("product_id", "Product not found")))


def _apply_code(request: ApiRequest):
    return _answer(apply_code(request.customer.id, request.json_model(PromoCodeApply).code))


def _remove_code(request: ApiRequest):
    return _answer(remove_code(request.customer.id))


mobile_cart = http_function(
    "mobile_cart", cart_add_item=_add, cart_update_item=_update, cart_remove_item=_remove,
    cart_apply_promo_code=_apply_code, cart_remove_promo_code=_remove_code,
)  # fmt: skip
