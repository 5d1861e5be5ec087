"""Service-account API tokens: a team's credentials for automation (CI), shown once, revoked at once.

A token is a service account (a user of its own: no password, one membership, in this team with the
token's role) plus an access JWT for that account, signed by the same ``TokenBackend`` as every sign-in
and expiring at ``expires_at`` (or in a century). Only the token's id (``jti``) is stored. So every route
authorizes a token exactly like a member with that role (``registry.permissions``, one rule), and the
prediction hot path caches it like any caller, with no query in steady state.

Revoking deactivates the account, bumps its token generation and removes its membership; each of those
publishes an invalidation on the bus, so every process drops the cached caller and refuses the token
within a second (``registry.authentication``). A service account cannot mint tokens, create teams,
decide promotions (four eyes means two people) or have its membership edited: only these functions
change it.
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from core.errors import Conflict, Forbidden, ModelyardError
from registry.models import TOKEN_NAME_VALIDATOR, Membership, Role, ServiceToken, Team, TokenState
from registry.permissions import User, require_role
from registry.services.audit import audit_record
from registry.tokens import SERVICE_CLAIM, VERSION_CLAIM, AccessToken, token_version

# A token without an expiry still carries an ``exp`` claim (every access token must): a century away.
NO_EXPIRY = timedelta(days=36500)


def is_service_account(user: Any) -> bool:
    return bool(getattr(user, "pk", None)) and ServiceToken.objects.filter(account_id=user.pk).exists()


def refuse_service_account(user: Any, what: str) -> None:
    """For the things a token may never do, whatever its role."""
    if is_service_account(user):
        raise Forbidden(f"A service token cannot {what}", code="service_account")


def refuse_service_member(user: Any, field: str = "username") -> None:
    """A service account's membership is the token's: it changes only by revoking the token."""
    if is_service_account(user):
        raise ModelyardError(f"{user.get_username()!r} is a service account: revoke its token instead",
                             field=field, code="service_account")


def _check_input(role: object, name: object, expires_at: datetime | None) -> tuple[str, str]:
    if role not in Role.values:
        raise ModelyardError(f"Role must be one of {', '.join(Role.values)}", field="role")
    if not isinstance(name, str):
        raise ModelyardError("A token needs a name", field="name")
    try:
        TOKEN_NAME_VALIDATOR(name)
    except ValidationError as exc:
        raise ModelyardError(str(exc.messages[0]), field="name") from None
    if expires_at is not None and timezone.is_naive(expires_at):
        raise ModelyardError("expires_at needs a time zone (e.g. 2027-06-30T00:00:00Z)", field="expires_at")
    if expires_at is not None and expires_at <= timezone.now():
        raise ModelyardError("expires_at must be in the future", field="expires_at")
    return str(role), name


def _check_ceiling(actor: User, team: Team, role: str) -> None:
    current = require_role(actor, team.id, Role.VIEWER, what=f"Team {team.slug!r} not found", field="team")
    if Role.rank(role) > Role.rank(current):
        raise Forbidden(f"A token cannot have a higher role than yours in the team ({current})", field="role")


def _mint(account: Any, token: ServiceToken, jti: str) -> str:
    access = AccessToken.for_user(account)
    access[jwt_settings.JTI_CLAIM] = jti
    access[VERSION_CLAIM] = token_version(account.password, 0)
    access[SERVICE_CLAIM] = token.pk
    if token.expires_at is None:
        access.set_exp(lifetime=NO_EXPIRY)
    else:
        access.set_exp(from_time=token.expires_at, lifetime=timedelta(0))
    return str(access)


@transaction.atomic
def service_token_create(*, actor: User, team: Team, role: str, name: str, expires_at: datetime | None = None,
                         ip: str | None = None) -> tuple[ServiceToken, str]:
    """Create a team's token; returns the row and the secret, which nothing can show again."""
    role, name = _check_input(role, name, expires_at)
    refuse_service_account(actor, "create tokens")
    _check_ceiling(actor, team, role)
    if ServiceToken.objects.filter(team=team, name=name, revoked_at__isnull=True).exists():
        raise Conflict(f"Team {team.slug!r} already has a token named {name!r}", field="name")
    access_id = AccessToken().payload[jwt_settings.JTI_CLAIM]  # a fresh random id, simplejwt's own
    account = get_user_model().objects.create_user(username=f"svc.{team.slug}.{name}.{access_id[:8]}")
    try:
        with transaction.atomic():  # a concurrent create of the same name: 409, not a 500
            token = ServiceToken.objects.create(team=team, account=account, name=name, role=role, jti=access_id,
                                                created_by=actor, expires_at=expires_at)
    except IntegrityError:
        raise Conflict(f"Team {team.slug!r} already has a token named {name!r}", field="name") from None
    Membership.objects.create(user=account, team=team, role=role)
    audit_record(actor=actor, action="service_token.create", target=f"team:{team.slug}/token:{name}", team=team,
                 after={"id": token.pk, "role": role, "account": account.get_username(),
                        "expires_at": expires_at.isoformat() if expires_at else None}, ip=ip)
    return token, _mint(account, token, access_id)


@transaction.atomic
def service_token_revoke(*, actor: User, token: ServiceToken, ip: str | None = None) -> ServiceToken:
    """Revoke a token on every route and process within a second; revoking it again changes nothing."""
    token = ServiceToken.objects.select_for_update().select_related("team", "account").get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor if actor.is_authenticated else None
    token.save(update_fields=["revoked_at", "revoked_by"])
    account = token.account
    account.is_active = False
    account.save(update_fields=["is_active"])  # publishes user:<id>
    state, _ = TokenState.objects.select_for_update().get_or_create(user_id=account.pk)
    state.generation += 1  # the token's version claim no longer matches, even if someone reactivates it
    state.revoked_at = token.revoked_at
    state.save()
    Membership.objects.filter(user=account).delete()
    audit_record(actor=actor, action="service_token.revoke", target=f"team:{token.team.slug}/token:{token.name}",
                 team=token.team, before={"id": token.pk, "role": token.role},
                 after={"revoked_at": token.revoked_at.isoformat()}, ip=ip)
    return token
