"""Signing a user out everywhere: every access and refresh token they hold stops working at once."""

from django.db import transaction
from django.utils import timezone

from registry.models import TokenState
from registry.permissions import User
from registry.services.audit import audit_record


@transaction.atomic
def sessions_revoke_all(*, actor: User, user: User, ip: str | None = None) -> int:
    """Bump the user's token generation; tokens carry a fingerprint of it, so all of them fail.

    Every process drops its cached caller when the change commits (the TokenState signal publishes
    ``user:<id>``), and reloads it within MODELYARD_CALLER_CACHE_SECONDS even if that message is lost.
    """
    TokenState.objects.get_or_create(user_id=user.pk)
    state = TokenState.objects.select_for_update().get(user_id=user.pk)  # concurrent revokes count once each
    state.generation += 1
    state.revoked_at = timezone.now()
    state.save()  # post_save publishes user:<id>: every process drops its cached caller
    audit_record(actor=actor, action="user.sessions_revoke", target=f"user:{user.get_username()}", team=None,
                 after={"generation": state.generation}, ip=ip)
    return state.generation
