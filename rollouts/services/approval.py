"""A protected alias takes a rollout only with an approved promotion request for that version.

The approval (registry/services/promotions.py, the four-eyes rule) is a request of purpose ``rollout``:
approving it moves nothing; the rollout that starts takes it (``promotion_consume``, once, in the
rollout's own transaction) and moves the alias when it completes.
"""

from typing import Any

from core.errors import Conflict
from registry.models import ModelVersion, PromotionPurpose, PromotionRequest, PromotionStatus, RegisteredModel
from registry.services.promotions import promotion_consume
from rollouts.models import Rollout


def require_approval(*, actor: Any, model: RegisteredModel, rollout: Rollout, candidate: ModelVersion,
                     ip: str | None) -> dict[str, Any] | None:
    """Consume the approval; what it was (for the start event), or None for an unprotected alias. 409 without."""
    if rollout.alias not in (model.protected_aliases or []):
        return None
    approved = (PromotionRequest.objects
                .filter(model=model, alias=rollout.alias, version=candidate, purpose=PromotionPurpose.ROLLOUT,
                        status=PromotionStatus.APPROVED, consumed_at__isnull=True)
                .order_by("-decided_at", "-id").first())
    if approved is None:
        raise Conflict(f"Alias {rollout.alias!r} is protected: a rollout of version {candidate.version} needs an "
                       "approved promotion request with purpose 'rollout' (POST .../promotions)",
                       field="alias", code="approval_required")
    promotion = promotion_consume(actor=actor, promotion=approved, by=f"rollout:{rollout.id}", ip=ip)
    return {"promotion": promotion.id, "requested_by": getattr(promotion.requested_by, "username", None),
            "approved_by": getattr(promotion.decided_by, "username", None)}
