"""One way to answer a prediction, shared by every protocol's route.

Finds the version (by number, or by alias with its rollout split), checks the caller's role and the
version's state, decodes the body, runs the model, and encodes the answer, naming the version that
answered in a header. If the chosen version turns out to be tampered with, the route is reloaded once
so that an alias falls back to its last good version. Each answer is counted in its version's
metrics window; an alias in shadow mode hands a copy to the candidate after answering.
"""

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from django.http import HttpResponseBase
from rest_framework.request import Request

from core import windows
from core.errors import ModelyardError, Unavailable
from modelkit import InputError
from registry.authentication import Caller
from registry.models import Role
from serving import engine, metrics, shadow
from serving.routing import Choice, ModelRoute, ServedVersion, route_for, routes

# Picks the version for a route and the caller's routing key.
Pick = Callable[[ModelRoute, str], Choice]
# Reads the request for the chosen version: (protocol, parsed body, checked batch).
Decode = Callable[[Request, ServedVersion], tuple[str, Any, np.ndarray]]
# Turns outputs into the protocol's answer.
Respond = Callable[[str, ModelRoute, ServedVersion, Any, dict[str, Any]], HttpResponseBase]
VERSION_HEADER = "Modelyard-Version"
_KEY_LIMIT = 200


def routing_key(request: Request, caller: Caller) -> str:
    """Sticky routing: the caller's own key if sent (bounded), else who the token names."""
    key = request.META.get("HTTP_MODELYARD_ROUTING_KEY")
    return key[:_KEY_LIMIT] if key else f"user:{caller.user_id}"


def visible(caller: Caller, name: str, role: str = Role.VIEWER) -> ModelRoute:
    """The route, once the caller is known to be in its team with the role: outsiders learn nothing."""
    route = route_for(name)
    caller.require(route.team_id, role, f"Model {name!r} not found")
    return route


def _once(request: Request, route: ModelRoute, choice: Choice, decode: Decode,
          respond: Respond) -> HttpResponseBase:
    served = choice.served
    served.require_ready(route.name)
    try:
        protocol, body, batch = decode(request, served)
    except InputError as exc:  # the kit knows no HTTP: its input errors are the caller's 400
        raise ModelyardError(exc.message, field=exc.field, code=exc.code) from None
    started = time.perf_counter()
    try:
        outputs = engine.predict(route, served, batch)
    except ModelyardError as exc:
        if exc.code != "overloaded":  # refused at admission (the model's share is busy): not the version's fault
            windows.accumulator.request(served.id, time.perf_counter() - started, error=exc.status >= 500)
        raise
    windows.accumulator.request(served.id, time.perf_counter() - started, error=False)
    metrics.count_prediction(route.name, served.number, protocol)
    response = respond(protocol, route, served, body, outputs)
    response[VERSION_HEADER] = str(served.number)
    if choice.shadow is not None:
        shadow.submit(route, choice.shadow, batch, outputs)
    return response


def serve(request: Request, caller: Caller, name: str, pick: Pick, decode: Decode,
          respond: Respond) -> HttpResponseBase:
    route = visible(caller, name, Role.PREDICTOR)
    key = routing_key(request, caller)
    try:
        return _once(request, route, pick(route, key), decode, respond)
    except Unavailable as exc:
        if exc.code != "artifact_integrity":
            raise
        # The version is quarantined now (here or by another process): reload without waiting for the bus.
        routes.drop(name)
        route = visible(caller, name, Role.PREDICTOR)
        return _once(request, route, pick(route, key), decode, respond)
