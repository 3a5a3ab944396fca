"""Every kind of error the application raises on purpose has its answer in the one mapping."""

import inspect

from common import errors
from common.http import ANSWERS


def test_every_kind_of_request_error_has_a_status_and_a_code():
    kinds = {
        kind
        for _, kind in inspect.getmembers(errors, inspect.isclass)
        if issubclass(kind, errors.AppError) and kind is not errors.AppError
    }
    assert kinds, "no error kinds found: the check would prove nothing"
    assert kinds - set(ANSWERS) == set()


def test_a_zoho_failure_is_a_dependency_unavailable():
    """Reconcile over HTTP relies on it: Zoho failing is a 503 with Zoho's Retry-After."""
    from datetime import timedelta

    from common.db import utcnow
    from common.sync.zoho_client import ZohoError, ZohoRateLimited

    assert issubclass(ZohoError, errors.Unavailable)
    assert ZohoRateLimited("Zoho API call", utcnow() + timedelta(seconds=30)).retry_after in (30, 31)
