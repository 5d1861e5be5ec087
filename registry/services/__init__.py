"""Every change to the registry goes through one of these functions, which audit it atomically."""

from registry.services.aliases import alias_delete, alias_set
from registry.services.audit import audit_record
from registry.services.integrity import version_quarantine
from registry.services.lifecycle import version_archive, version_restore
from registry.services.models import model_create, model_delete, model_update
from registry.services.promotions import (
    promotion_approve,
    promotion_cancel,
    promotion_consume,
    promotion_reject,
    promotion_request,
)
from registry.services.service_tokens import service_token_create, service_token_revoke
from registry.services.teams import membership_remove, membership_set, team_create, team_delete, team_update
from registry.services.validation import version_validate
from registry.services.versions import VersionMetadata, version_create, version_publish_local

__all__ = [
    "VersionMetadata", "alias_delete", "alias_set", "audit_record", "membership_remove", "membership_set",
    "model_create", "model_delete", "model_update", "promotion_approve", "promotion_cancel", "promotion_consume",
    "promotion_reject", "promotion_request", "service_token_create", "service_token_revoke", "team_create",
    "team_delete", "team_update",
    "version_archive", "version_create", "version_publish_local", "version_quarantine", "version_restore",
    "version_validate",
]
