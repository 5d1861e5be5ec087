from typing import Any

from rest_framework import serializers

from registry.models import AuditEvent, Membership, ModelAlias, ModelVersion, RegisteredModel, Role, Team


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "created_at"]


class TeamCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200, required=False, default="")


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["username", "role", "created_at"]


class MembershipSetSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class RegisteredModelSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    aliases = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = ["name", "team", "description", "tags", "protected_aliases", "response_cache_seconds", "aliases",
                  "created_at", "updated_at"]

    def get_aliases(self, obj: RegisteredModel) -> dict[str, int]:
        return {alias.name: alias.version.version for alias in obj.aliases.all()}


class ModelCreateSerializer(serializers.Serializer):
    team = serializers.SlugField()
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tags = serializers.DictField(required=False, default=dict)


class ModelUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.DictField(required=False)
    protected_aliases = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    response_cache_seconds = serializers.IntegerField(min_value=0, max_value=86_400, required=False)


# Left out of list pages: the heaviest metadata (up to 1 MiB and 64 KiB a version); the detail has them.
VERSION_DETAIL_ONLY = ("input_example", "params")


class ModelVersionListItemSerializer(serializers.ModelSerializer):
    """One version in a list page: everything but ``VERSION_DETAIL_ONLY``."""

    model = serializers.CharField(source="model.name")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = ModelVersion
        fields = [
            "model", "version", "format", "status", "status_message", "sha256", "size_bytes", "original_filename",
            "signature", "metrics", "tags", "lineage", "description", "created_by",
            "created_at", "validated_at", "serving_format", "serving_note",
        ]


class ModelVersionSerializer(ModelVersionListItemSerializer):
    """One version in full. Serializing many at once (a list page) gives list items instead."""

    class Meta(ModelVersionListItemSerializer.Meta):
        fields = [
            "model", "version", "format", "status", "status_message", "sha256", "size_bytes", "original_filename",
            "signature", "input_example", "metrics", "params", "tags", "lineage", "description", "created_by",
            "created_at", "validated_at", "serving_format", "serving_note",
        ]

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> serializers.ListSerializer:
        return ModelVersionListItemSerializer.many_init(*args, **kwargs)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    sha256 = serializers.CharField(required=False, max_length=64)
    signature = serializers.JSONField(required=False, binary=True, default=dict)
    input_example = serializers.JSONField(required=False, binary=True, default=None)
    metrics = serializers.JSONField(required=False, binary=True, default=dict)
    params = serializers.JSONField(required=False, binary=True, default=dict)
    tags = serializers.JSONField(required=False, binary=True, default=dict)
    lineage = serializers.JSONField(required=False, binary=True, default=dict)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name, value in attrs.items():
            if name != "file" and _has_nul(value):  # stored text cannot hold NUL (PostgreSQL refuses it)
                raise serializers.ValidationError({name: "Must not contain NUL characters"})
        return attrs


class AliasSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.version")
    updated_by = serializers.CharField(source="updated_by.username", default=None, allow_null=True)

    class Meta:
        model = ModelAlias
        fields = ["name", "version", "updated_by", "updated_at"]


class AliasSetSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    team = serializers.CharField(source="team.slug", default=None, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "team", "action", "target", "before", "after", "ip"]
