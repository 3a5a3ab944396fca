"""GET /api/mobile/home: shelves, promotions and categories, plus the customer's cart when signed in."""

from common.http import ApiRequest, cached_json_response, http_function
from common.shop.catalog import home_screen

# The signed-in screen holds the customer's cart: only the app may keep it, and not for long.
PUBLIC_CACHE, PRIVATE_CACHE = "public, max-age=60", "private, max-age=30"


def _home(request: ApiRequest):
    customer = request.customer
    return cached_json_response(request, home_screen(customer), PRIVATE_CACHE if customer else PUBLIC_CACHE)


mobile_home = http_function("mobile_home", mobile_home=_home)
