"""API fuzzing: schemathesis drives every operation of ``/api/schema`` through the real WSGI stack.

What it proves, per documented operation: bounded, derandomized generated requests (valid and invalid
data, plus schemathesis' coverage cases: boundary values, missing credentials, other HTTP methods) sent
with an owner's bearer token never get a 5xx, and every answer's status code, content type and body
match the schema (the error envelope included). Path parameters and body fields often name the
fixture's real objects (team acme, model iris, version 1, alias production), so requests reach the
handlers and the ONNX model instead of stopping at a 404.

Each operation is its own test with fresh fixtures; hypothesis stops an operation at its first failure.
``MODELYARD_FUZZ_EXAMPLES`` (default 25) sets the examples per operation for a deeper local run.
"""

import os
import uuid
import zlib
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.serving_handler import ServingHandler, dispatch
from registry.models import ModelVersion
from registry.tokens import RefreshToken

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("MODELYARD_FUZZ_EXAMPLES", "25"))
# Real objects from the fixtures, by path parameter or top-level body field name.
KNOWN: dict[str, list[Any]] = {
    "slug": ["acme"], "team": ["acme"], "username": ["tom-teammate", "olivia-owner"], "name": ["iris"],
    "number": [1, 2], "version": [1], "alias": ["production", "staging"], "label": ["production", "staging"],
}
# The token routes are throttled per client address in the shared cache (file or Redis): each operation
# gets its own address for this run, so it starts with a full allowance (then 429s, which the schema
# documents), and neither inherits throttle state from earlier runs nor leaves any to other tests.
RUN = uuid.uuid4().int

# The application config.wsgi serves (prediction routes on the lean handler), built here because
# importing config.wsgi also starts the serving warm-up thread.
schema = schemathesis.openapi.from_wsgi("/api/schema", dispatch(get_wsgi_application(), ServingHandler()))


def aimed(values: Any) -> st.SearchStrategy:
    """All known fields name real objects in about half of the cases; otherwise each one may."""
    if not isinstance(values, dict) or not values.keys() & KNOWN.keys():
        return st.just(values)
    real = {k: st.sampled_from(KNOWN[k]) if k in KNOWN else st.just(v) for k, v in values.items()}
    mixed = {k: st.sampled_from([v, *KNOWN[k]]) if k in KNOWN else st.just(v) for k, v in values.items()}
    return st.one_of(st.fixed_dictionaries(real), st.fixed_dictionaries(mixed))


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> st.SearchStrategy:
    return aimed(path_parameters)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy:
    return aimed(body)


@schema.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """A coverage case varies one part of a request (body, query, method...): aim its path at real objects."""
    meta = case.meta
    if (meta is not None and meta.phase.name == "coverage" and meta.phase.data.parameter_location != "path"
            and case.path_parameters):
        case.path_parameters = {k: KNOWN[k][0] if k in KNOWN else v for k, v in case.path_parameters.items()}
    return case


def client_address(case: schemathesis.Case) -> str:
    bits = (RUN ^ zlib.crc32(case.operation.label.encode())) & 0xFFFFFF
    return f"10.{bits >> 16}.{(bits >> 8) & 0xFF}.{bits & 0xFF}"


@pytest.fixture
def bearer(owner: Any, teammate: Any, ready_iris: ModelVersion) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(owner).access_token}"}


# transaction=True: the WSGI handler closes the connection after each request, as in production,
# which would end a test wrapped in one transaction; committed data also reaches the routing caches.
# An operation's examples share its fixtures on purpose (state accumulates, as on a server); the other
# health checks are about timing and data size, which would only make CI flaky.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case: schemathesis.Case, bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer, checks=CHECKS, environ_overrides={"REMOTE_ADDR": client_address(case)})
