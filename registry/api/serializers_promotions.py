"""Promotion requests in the API: the request, its decision and the review diff."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import ModelAlias, PromotionPurpose, PromotionRequest, PromotionStatus
from registry.promotion_diff import review_diff
from registry.selectors import aliases_now, promotion_is_current
from registry.services.promotions import REASON_MAX_CHARS


class PromotionRequestSerializer(serializers.ModelSerializer):
    """``current_version`` is where the alias points now; ``base_version`` where it pointed when asked.
    ``stale``: the alias moved since the request was made, so it can no longer be approved."""

    # A list page passes context["aliases"] (selectors.aliases_now of the page): one query, not one per row.

    model = serializers.CharField(source="model.name")
    team = serializers.CharField(source="model.team.slug")
    version = serializers.IntegerField(source="version.version")
    base_version = serializers.IntegerField(source="base_version.version", default=None, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", default=None, allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    current_version = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()
    diff = serializers.SerializerMethodField()

    class Meta:
        model = PromotionRequest
        fields = ["id", "model", "team", "alias", "version", "purpose", "status", "reason", "requested_by",
                  "created_at", "base_version", "current_version", "stale", "decided_by", "decided_at",
                  "decision_reason", "consumed_at", "consumed_by", "diff"]

    def _alias(self, obj: PromotionRequest) -> ModelAlias | None:
        known = self.context.setdefault("aliases", {})
        key = (obj.model_id, obj.alias)
        if key not in known:  # not on the page's list (a single request): look it up
            known.update(aliases_now([obj]))
        return known[key]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_current_version(self, obj: PromotionRequest) -> int | None:
        alias = self._alias(obj)
        return alias.version.version if alias else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_stale(self, obj: PromotionRequest) -> bool:
        if obj.status == PromotionStatus.OPEN:
            return not promotion_is_current(obj, self._alias(obj))
        return obj.status == PromotionStatus.STALE

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_diff(self, obj: PromotionRequest) -> dict[str, Any]:
        """Metrics side by side, signature compatibility (``breaking``), size, runtime and lineage; while
        open against the alias's version now, once closed against the version it was reviewed against."""
        if obj.status == PromotionStatus.OPEN:
            alias = self._alias(obj)
            return review_diff(alias.version if alias else None, obj.version)
        return review_diff(obj.base_version, obj.version)


class PromotionCreateSerializer(serializers.Serializer):
    """``purpose``: ``move`` (the approval moves the alias) or ``rollout`` (the approval lets one rollout of
    the version start; the rollout moves the alias when it completes)."""

    alias = serializers.CharField(max_length=50)
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=REASON_MAX_CHARS)
    purpose = serializers.ChoiceField(choices=PromotionPurpose.choices, default=PromotionPurpose.MOVE)


class PromotionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_CHARS, required=False, allow_blank=True, default="")


class PromotionRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_CHARS)
