"""The few exceptions the service layer raises; common.http turns them into the contract's error shape.

Each carries its HTTP status and the stable machine word `code` clients switch on.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    code = "internal_error"
    default_message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        issues: list[dict] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors or []
        self.headers = headers or {}
        self.issues = issues  # what the client should show (an order's 409s), answered only when set
        super().__init__(self.message)


class BadRequest(ApiError):
    status, code, default_message = 400, "bad_request", "Bad request"


class InvalidJson(ApiError):
    status, code, default_message = 400, "invalid_json", "Request body is not valid JSON"


class Unauthorized(ApiError):
    status, code, default_message = 401, "unauthorized", "Authentication required"


class Forbidden(ApiError):
    status, code, default_message = 403, "forbidden", "Not allowed"


class NotFound(ApiError):
    status, code, default_message = 404, "not_found", "Not found"


class MethodNotAllowed(ApiError):
    status, code, default_message = 405, "method_not_allowed", "Method not allowed"


class Conflict(ApiError):
    status, code, default_message = 409, "conflict", "Conflict"


class CartEmpty(Conflict):
    code, default_message = "cart_empty", "The cart is empty"


class OutOfStock(Conflict):
    code, default_message = "out_of_stock", "Not enough stock for every line of the cart"


class CheckoutChanged(Conflict):
    code, default_message = "checkout_changed", "The cart changed since checkout; review it again"


class NotCancellable(Conflict):
    code, default_message = "not_cancellable", "The order can no longer be cancelled"


class PayloadTooLarge(ApiError):
    status, code, default_message = 413, "payload_too_large", "Request body is larger than 1 MiB"


class UnsupportedMediaType(ApiError):
    status, code, default_message = 415, "unsupported_media_type", "Request body must be application/json"


class ValidationFailed(ApiError):
    status, code, default_message = 422, "validation_error", "Request validation failed"


class PromoCodeInvalid(ApiError):
    status, code, default_message = 422, "promo_code_invalid", "The promotion code cannot be used"


class ServiceUnavailable(ApiError):
    status, code, default_message = 503, "service_unavailable", "Service temporarily unavailable"
