"""Publish routing and access invalidations for every change, whichever path made it (API, console, shell)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from core import bus
from registry.models import Membership, ModelAlias, ModelVersion, RegisteredModel, TokenState


def _model_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, RegisteredModel):
        bus.publish("*")  # a rename leaves the old name cached: rare enough to drop everything
    else:
        bus.publish(f"route:{instance.model.name}")


def _access_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, Membership):
        bus.publish("*")  # a membership edited in the console may have changed its user
    elif isinstance(instance, TokenState):
        bus.publish(f"user:{instance.user_id}")
    else:
        bus.publish(f"user:{instance.pk}")


def connect() -> None:
    for model in (RegisteredModel, ModelVersion, ModelAlias):
        post_save.connect(_model_changed, sender=model, dispatch_uid=f"route-{model.__name__}-save")
        post_delete.connect(_model_changed, sender=model, dispatch_uid=f"route-{model.__name__}-delete")
    for model in (Membership, TokenState, get_user_model()):
        post_save.connect(_access_changed, sender=model, dispatch_uid=f"access-{model.__name__}-save")
        post_delete.connect(_access_changed, sender=model, dispatch_uid=f"access-{model.__name__}-delete")
