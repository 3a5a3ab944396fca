"""Cloud catch-all: API Gateway sends requests that match no route here, for the contract's 404 / 405."""

from werkzeug.wrappers import Request, Response

from common.http import handle
from common.routes import ROUTE_TABLE


def fallback(request: Request) -> Response:
    # The full table tells an unknown path (404) from a known path with the wrong method (405).
    return handle(request, ROUTE_TABLE, {})
