"""The application's exceptions: one root, `AppError`, and the kinds handlers and services raise.

They say what went wrong, never how to answer it: common.http.ANSWERS is the one place a
kind of error (and a database error) becomes an HTTP status and the contract's machine word.
The other kinds derive from it too: common.config.ConfigError, common.ssm_secrets.SecretsUnavailable,
common.sync.errors.SyncError (and Zoho's, common.sync.zoho_client), common.verify.CheckFailed.
"""

from __future__ import annotations


class AppError(Exception):
    """Root of every error the application raises on purpose."""

    default_message = "Internal error"

    def __init__(self, message: str | None = None, *, errors: list[dict[str, str]] | None = None) -> None:
        self.message = message or self.default_message
        self.errors = errors or []  # [{"field", "message"}] naming each offending field
        super().__init__(self.message)


# ---- what a caller asked for cannot be done ------------------------------------------------


class BadRequest(AppError):
    default_message = "Bad request"


class InvalidJson(BadRequest):
    default_message = "Request body is not valid JSON"


class ValidationFailed(AppError):
    """Data does not fit its model; `errors` names each field."""

    default_message = "Request validation failed"


class Unauthorized(AppError):
    default_message = "Authentication required"


class Forbidden(AppError):
    default_message = "Not allowed"


class NotFound(AppError):
    default_message = "Not found"


class Conflict(AppError):
    """The current state forbids it; `issues` lists what the client should show (an order's refusals)."""

    default_message = "Conflict"

    def __init__(self, message: str | None = None, *, issues: list[dict] | None = None) -> None:
        super().__init__(message)
        self.issues = issues  # answered only when set


# ---- an order cannot be placed, or changed -------------------------------------------------


class CartEmpty(Conflict):
    default_message = "The cart is empty"


class OutOfStock(Conflict):
    default_message = "Not enough stock for every line of the cart"


class CheckoutChanged(Conflict):
    default_message = "The cart changed since checkout; review it again"


class NotCancellable(Conflict):
    default_message = "The order can no longer be cancelled"


class PromoCodeInvalid(AppError):
    default_message = "The promotion code cannot be used"


class Unavailable(AppError):
    """A dependency cannot serve now; `retry_after` seconds is when trying again may help (None: unknown)."""

    default_message = "Service temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ---- what a request's form breaks (raised by the HTTP edge itself) --------------------------


class MethodNotAllowed(AppError):
    default_message = "Method not allowed"

    def __init__(self, *, allowed: list[str]) -> None:
        super().__init__()
        self.allowed = allowed


class RequestTimeout(AppError):
    default_message = "Request body not received in time"


class PayloadTooLarge(AppError):
    default_message = "Request body is larger than 1 MiB"


class UnsupportedMediaType(AppError):
    default_message = "Request body must be application/json"
