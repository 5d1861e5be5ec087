"""One way to answer a prediction, shared by every protocol's route.

Finds the version, checks the caller's role and the version's state, decodes the body, runs the
model, and encodes the answer. If the chosen version turns out to be tampered with, the route is
reloaded once so that an alias falls back to its last good version.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from django.http import HttpResponseBase
from rest_framework.request import Request

from core.errors import ModelyardError, Unavailable
from modelkit import InputError
from registry.authentication import Caller
from registry.models import Role
from serving import engine, metrics
from serving.routing import ModelRoute, ServedVersion, route_for, routes

Pick = Callable[[ModelRoute], ServedVersion]
# Reads the request for the chosen version: (protocol, parsed body, checked batch).
Decode = Callable[[Request, ServedVersion], tuple[str, Any, np.ndarray]]
# Turns outputs into the protocol's answer.
Respond = Callable[[str, ModelRoute, ServedVersion, Any, dict[str, Any]], HttpResponseBase]


def visible(caller: Caller, name: str, role: str = Role.VIEWER) -> ModelRoute:
    """The route, once the caller is known to be in its team with the role: outsiders learn nothing."""
    route = route_for(name)
    caller.require(route.team_id, role, f"Model {name!r} not found")
    return route


def _once(request: Request, route: ModelRoute, served: ServedVersion, decode: Decode,
          respond: Respond) -> HttpResponseBase:
    served.require_ready(route.name)
    try:
        protocol, body, batch = decode(request, served)
    except InputError as exc:  # the kit knows no HTTP: its input errors are the caller's 400
        raise ModelyardError(exc.message, field=exc.field, code=exc.code) from None
    outputs = engine.predict(route, served, batch)
    metrics.PREDICTIONS.labels(route.name, served.number, protocol).inc()
    return respond(protocol, route, served, body, outputs)


def serve(request: Request, caller: Caller, name: str, pick: Pick, decode: Decode,
          respond: Respond) -> HttpResponseBase:
    route = visible(caller, name, Role.PREDICTOR)
    try:
        return _once(request, route, pick(route), decode, respond)
    except Unavailable as exc:
        if exc.code != "artifact_integrity":
            raise
        # The version is quarantined now (here or by another process): reload without waiting for the bus.
        routes.drop(name)
        route = visible(caller, name, Role.PREDICTOR)
        return _once(request, route, pick(route), decode, respond)
