from django.contrib.auth import get_user_model
from django.db import transaction

from core.errors import Conflict, ModelyardError, NotFound
from registry.models import Membership, Role, ServiceToken, Team
from registry.permissions import User
from registry.services.audit import audit_record
from registry.services.service_tokens import refuse_service_account, refuse_service_member, service_token_revoke


@transaction.atomic
def team_create(*, actor: User, slug: str, name: str, ip: str | None = None) -> Team:
    refuse_service_account(actor, "create teams")
    if Team.objects.filter(slug=slug).exists():
        raise Conflict(f"Team {slug!r} already exists", field="slug")
    team = Team.objects.create(slug=slug, name=name or slug)
    Membership.objects.create(user=actor, team=team, role=Role.OWNER)
    audit_record(actor=actor, action="team.create", target=f"team:{slug}", team=team, after={"name": team.name}, ip=ip)
    return team


@transaction.atomic
def team_update(*, actor: User, team: Team, name: str, ip: str | None = None) -> Team:
    """Rename a team's display name; the slug is its identity (URLs, audit targets) and never changes."""
    name = name.strip()
    if not name:
        raise ModelyardError("A team needs a name", field="name")
    team = Team.objects.select_for_update().get(pk=team.pk)
    if team.name == name:
        return team  # nothing changed, nothing to record
    before = {"name": team.name}
    team.name = name
    team.save(update_fields=["name"])
    audit_record(actor=actor, action="team.update", target=f"team:{team.slug}", team=team,
                 before=before, after={"name": name}, ip=ip)
    return team


@transaction.atomic
def team_delete(*, actor: User, team: Team, ip: str | None = None) -> None:
    """Delete a team that holds no models; its memberships go with it, listed in the audit row."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if team.models.exists():
        raise Conflict(f"Team {team.slug!r} still has models; move or remove them first", field="team",
                       code="team_not_empty")
    for token in team.service_tokens.filter(revoked_at__isnull=True):  # no account outlives its team active
        service_token_revoke(actor=actor, token=token, ip=ip)
    members = dict(team.memberships.values_list("user__username", "role").order_by("user__username"))
    slug = team.slug
    team.memberships.all().delete()
    team.delete()
    # team=None: the row is gone, and the foreign key would be nulled on delete anyway.
    audit_record(actor=actor, action="team.delete", target=f"team:{slug}", team=None,
                 before={"name": team.name, "members": members}, ip=ip)


@transaction.atomic
def membership_set(*, actor: User, team: Team, username: str, role: str, ip: str | None = None) -> Membership:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"User {username!r} not found", field="username")
    refuse_service_member(user)
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    before = {"role": membership.role} if membership else None
    if membership and membership.role == Role.OWNER and role != Role.OWNER:
        _keep_an_owner(team, excluding=membership)
    if membership is None:
        membership = Membership.objects.create(team=team, user=user, role=role)
    else:
        membership.role = role
        membership.save(update_fields=["role"])
    audit_record(actor=actor, action="membership.set", target=f"team:{team.slug}/user:{username}", team=team,
                 before=before, after={"role": role}, ip=ip)
    return membership


@transaction.atomic
def membership_remove(*, actor: User, team: Team, username: str, ip: str | None = None) -> None:
    membership = Membership.objects.select_for_update().filter(team=team, user__username=username).first()
    if membership is None:
        raise NotFound(f"{username!r} is not a member of {team.slug!r}", field="username")
    refuse_service_member(membership.user)
    if membership.role == Role.OWNER:
        _keep_an_owner(team, excluding=membership)
    membership.delete()
    audit_record(actor=actor, action="membership.remove", target=f"team:{team.slug}/user:{username}", team=team,
                 before={"role": membership.role}, ip=ip)


def _keep_an_owner(team: Team, *, excluding: Membership) -> None:
    # A service token is no owner: the team needs a person who can manage it.
    owners = (Membership.objects.select_for_update().filter(team=team, role=Role.OWNER)
              .exclude(pk=excluding.pk).exclude(user__in=ServiceToken.objects.values("account")))
    if not owners.exists():
        raise ModelyardError("A team must keep at least one owner", field="role", code="last_owner")
