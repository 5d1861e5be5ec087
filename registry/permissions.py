"""Role checks. Outsiders get 404 (they learn nothing); members with too low a role get 403."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from core.errors import Forbidden, NotFound
from registry.models import Membership, Role, Team

User = AbstractBaseUser | AnonymousUser


def team_role(user: User, team_id: int) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return Role.OWNER
    return Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()


def check_role(current: str | None, role: str, *, what: str, field: str | None = None) -> str:
    """The one rule, for the API and the serving hot path alike: not a member 404, too low 403."""
    if current is None:
        raise NotFound(what, field=field)
    if Role.rank(current) < Role.rank(role):
        raise Forbidden(f"This needs the {role} role in the team; you are {current}")
    return current


def require_role(user: User, team_id: int, role: str, *, what: str = "Not found", field: str | None = None) -> str:
    return check_role(team_role(user, team_id), role, what=what, field=field)


def require_team(user: User, slug: str, role: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise NotFound(f"Team {slug!r} not found", field="team")
    require_role(user, team.id, role, what=f"Team {slug!r} not found", field="team")
    return team


def has_role(user: User, team_id: int, role: str) -> bool:
    """For showing or hiding a control: the same rank rule as ``check_role``, as a yes or no."""
    current = team_role(user, team_id)
    return current is not None and Role.rank(current) >= Role.rank(role)


def role_at_least(current: str | None, role: str) -> bool:
    return current is not None and Role.rank(current) >= Role.rank(role)


def teams_with_role(user: User, role: str) -> QuerySet[Team]:
    """The teams in which the user has ``role`` or more (staff: every team), as a queryset to filter by."""
    if user.is_staff:
        return Team.objects.all()
    ranks = [name for name in Role.values if Role.rank(name) >= Role.rank(role)]
    return Team.objects.filter(memberships__user=user, memberships__role__in=ranks)
