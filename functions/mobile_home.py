"""GET /api/mobile/home: shelves, promotions and categories, plus the customer's cart when signed in."""

from common.http import ApiRequest, cached_json_response, http_function
from common.routes import route
from common.shop.auth import optional_customer
from common.shop.catalog import home_screen
from common.shop.schemas import HomeScreen

# The signed-in screen holds the customer's cart: only the app may keep it, and not for long.
PUBLIC_CACHE, PRIVATE_CACHE = "public, max-age=60", "private, max-age=30"


@route(
    method="GET",
    path="/api/mobile/home",
    operation="mobile_home",
    summary="Home screen: featured, best sellers, new arrivals, promotions, categories (and the cart when signed in)",
    tag="mobile",
    auth=optional_customer,
    responses={200: HomeScreen},
)
def show_home(request: ApiRequest):
    signed_in = request.customer
    return cached_json_response(request, home_screen(signed_in), PRIVATE_CACHE if signed_in else PUBLIC_CACHE)


mobile_home = http_function("mobile_home", show_home)
