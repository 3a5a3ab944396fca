"""The signed-in customer's delivery addresses: list, add, change (or make default), delete."""

from werkzeug.wrappers import Response

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.shop.addresses import add_address, change_address, delete_address, list_addresses
from common.shop.schemas import AddressChange, AddressCreate

_NOT_FOUND = "Address not found"


def _answer(body, status: int = 200):
    return json_response(body, status, headers={"Cache-Control": NO_STORE})


def _list(request: ApiRequest):
    return _answer(list_addresses(request.customer.id))


def _add(request: ApiRequest):
    return _answer(add_address(request.customer.id, request.json_model(AddressCreate)), 201)


def _change(request: ApiRequest):
    address_id = request.path_id("address_id", _NOT_FOUND)
    return _answer(change_address(request.customer.id, address_id, request.json_model(AddressChange)))


def _delete(request: ApiRequest):
    delete_address(request.customer.id, request.path_id("address_id", _NOT_FOUND))
    return Response(status=204, headers={"Cache-Control": NO_STORE})


mobile_addresses = http_function(
    "mobile_addresses", address_list=_list, address_add=_add, address_change=_change, address_delete=_delete
)
