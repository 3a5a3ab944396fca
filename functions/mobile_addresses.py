"""The signed-in customer's delivery addresses: list, add, change (or make default), delete."""

from werkzeug.wrappers import Response

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.routes import EMPTY, route
from common.shop.addresses import add_address, change_address, delete_address, list_addresses
from common.shop.auth import customer
from common.shop.schemas import Address, AddressChange, AddressCreate, AddressList, CustomerScope

_ADDRESS_ID = {"address_id": {"type": "integer", "minimum": 1}}
_NOT_FOUND = "Address not found"
_TAG = "orders"


def _answer(body, status: int = 200):
    return json_response(body, status, headers={"Cache-Control": NO_STORE})


@route(
    method="GET",
    path="/api/mobile/addresses",
    operation="address_list",
    summary="The customer's delivery addresses, the default first",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    responses={200: AddressList},
)
def show_addresses(request: ApiRequest):
    return _answer(list_addresses(request.customer.id))


@route(
    method="POST",
    path="/api/mobile/addresses",
    operation="address_add",
    summary="Add a delivery address (the first one is the default)",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    body=AddressCreate,
    responses={201: Address},
)
def add_one(request: ApiRequest):
    return _answer(add_address(request.customer.id, request.json_model(AddressCreate)), 201)


@route(
    method="PATCH",
    path="/api/mobile/addresses/{address_id}",
    operation="address_change",
    summary="Change an address, or make it the default",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    body=AddressChange,
    path_params=_ADDRESS_ID,
    responses={200: Address},
    errors=(404,),
)
def change_one(request: ApiRequest):
    address_id = request.path_id("address_id", _NOT_FOUND)
    return _answer(change_address(request.customer.id, address_id, request.json_model(AddressChange)))


@route(
    method="DELETE",
    path="/api/mobile/addresses/{address_id}",
    operation="address_delete",
    summary="Delete an address (orders keep their copy)",
    tag=_TAG,
    auth=customer,
    query=CustomerScope,
    path_params=_ADDRESS_ID,
    responses={204: EMPTY},
    errors=(404,),
)
def delete_one(request: ApiRequest):
    delete_address(request.customer.id, request.path_id("address_id", _NOT_FOUND))
    return Response(status=204, headers={"Cache-Control": NO_STORE})


mobile_addresses = http_function("mobile_addresses", show_addresses, add_one, change_one, delete_one)
