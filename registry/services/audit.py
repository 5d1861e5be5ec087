from typing import Any

from registry.models import AuditEvent, Team
from registry.permissions import User


def audit_record(
    *, actor: User | None, action: str, target: str, team: Team | None,
    before: Any = None, after: Any = None, ip: str | None = None,
) -> AuditEvent:
    """Call inside the transaction of the change it records, so both land or neither does."""
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=real_actor, action=action, target=target, team=team, before=before, after=after, ip=ip
    )
