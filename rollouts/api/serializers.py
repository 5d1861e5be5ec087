from typing import Any

from rest_framework import serializers

from rollouts.models import Rollout, RolloutEvent, Strategy


class RolloutCreateSerializer(serializers.Serializer):
    """Shapes only; the rules (steps increasing, guards' ranges, ...) live in the service, for every caller."""

    alias = serializers.CharField(max_length=50)
    version = serializers.IntegerField(min_value=1)
    strategy = serializers.ChoiceField(choices=Strategy.choices)
    steps = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    step_seconds = serializers.IntegerField(required=False, default=60)
    guards = serializers.JSONField(required=False, default=dict)
    allow_breaking = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RolloutActionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RolloutEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = RolloutEvent
        fields = ["at", "kind", "actor", "step", "weight_before", "weight_after", "rule", "message", "evidence"]


class RolloutSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    model = serializers.CharField(source="model.name")
    stable = serializers.IntegerField(source="stable.version")
    candidate = serializers.IntegerField(source="candidate.version")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = Rollout
        fields = ["id", "model", "alias", "stable", "candidate", "strategy", "steps", "step_seconds", "guards",
                  "allow_breaking", "reason", "status", "step", "weight", "step_started_at", "created_by",
                  "created_at", "updated_at", "finished_at"]


class RolloutDetailSerializer(RolloutSerializer):
    events = serializers.SerializerMethodField()

    class Meta(RolloutSerializer.Meta):
        fields = [*RolloutSerializer.Meta.fields, "events"]

    def get_events(self, obj: Rollout) -> list[dict[str, Any]]:
        return RolloutEventSerializer(obj.events.select_related("actor").order_by("at", "id"), many=True).data


class ServedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    weight = serializers.IntegerField()


class IntervalSerializer(serializers.Serializer):
    start = serializers.DateTimeField(source="from")
    end = serializers.DateTimeField(source="to", allow_null=True)
    served = ServedSerializer(many=True)
    shadow = serializers.IntegerField(allow_null=True)
    rollout = serializers.JSONField(allow_null=True)
    change = serializers.CharField()


class TimelineSerializer(serializers.Serializer):
    """``at`` given: ``interval`` is the one containing it (null before the alias existed). Always: ``intervals``."""

    model = serializers.CharField()
    alias = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    interval = IntervalSerializer(allow_null=True)
    intervals = IntervalSerializer(many=True)
