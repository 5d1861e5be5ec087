"""API fuzzing: schemathesis drives every operation of ``/api/schema`` through the real WSGI stack.

What it proves, per documented operation: bounded, derandomized generated requests (valid and invalid
data) sent with an owner's bearer token never get a 5xx, and every answer's status code, content type
and body match the schema (the error envelope included). Path parameters are often the fixture's real
objects (team acme, model iris, version 1, alias production), so requests reach the handlers and the
ONNX model instead of stopping at a 404.
"""

import uuid
import zlib
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.models import ModelVersion

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Real objects from the fixtures; each path parameter takes one of these in about half of the cases.
KNOWN: dict[str, list[Any]] = {
    "slug": ["acme"], "username": ["tom-teammate", "olivia-owner"], "name": ["iris"],
    "number": [1, 2], "version": ["1"], "alias": ["production", "staging"],
}
# The token routes are throttled per client address in the shared cache: each operation gets its own
# address for this run, so fuzzing neither inherits nor leaves behind throttle state for other tests.
RUN = uuid.uuid4().int

# get_wsgi_application(), not config.wsgi: that module also starts the serving warm-up thread.
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> st.SearchStrategy:
    return st.fixed_dictionaries({
        key: st.one_of(st.sampled_from(KNOWN[key]), st.just(value)) if key in KNOWN else st.just(value)
        for key, value in path_parameters.items()
    })


def client_address(case: schemathesis.Case) -> str:
    bits = (RUN ^ zlib.crc32(case.operation.label.encode())) & 0xFFFFFF
    return f"10.{bits >> 16}.{(bits >> 8) & 0xFF}.{bits & 0xFF}"


@pytest.fixture
def bearer(owner: Any, teammate: Any, ready_iris: ModelVersion) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(owner).access_token}"}


# transaction=True: the WSGI handler closes the connection after each request, as in production,
# which would end a test wrapped in one transaction; committed data also reaches the routing caches.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
def test_api_conforms_to_its_schema(case: schemathesis.Case, bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer, checks=CHECKS, environ_overrides={"REMOTE_ADDR": client_address(case)})
