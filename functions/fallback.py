"""Cloud catch-all: API Gateway sends requests that match no route here, for the contract's 404 / 405.

Telling the two apart takes every route, so this function imports every function's module
(service.py): its cold start is the slowest, and only unknown requests pay it."""

from werkzeug.wrappers import Request, Response

from common.http import handle
from service import ROUTE_TABLE


def fallback(request: Request) -> Response:
    # The full table tells an unknown path (404) from a known path with the wrong method (405).
    return handle(request, ROUTE_TABLE, serve=False)
