"""The database away is a 503 with Retry-After and a clear message, never a 500 (make drills restarts it)."""

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError

from core.envelope import exception_handler


@pytest.mark.parametrize("error", [OperationalError("the database system is shutting down"),
                                   InterfaceError("connection already closed")])
def test_a_lost_database_is_a_retryable_503(error):
    response = exception_handler(error, {})
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.data == {"error": {"code": "database_unavailable", "field": None,
                                       "message": "The database is unavailable right now; retry in a moment"}}


def test_other_database_errors_stay_errors():
    assert exception_handler(IntegrityError("duplicate key"), {}) is None  # DRF re-raises it: a bug, a 500
