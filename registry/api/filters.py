from datetime import UTC, datetime

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers

from registry.models import AuditEvent, ModelVersion, RegisteredModel


class RegisteredModelFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = RegisteredModel
        fields = ["team", "name"]


class ModelVersionFilter(django_filters.FilterSet):
    class Meta:
        model = ModelVersion
        fields = ["status", "format"]


class AuditEventFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug")
    action = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(method="filter_since")

    def filter_since(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        # In UTC and within the years a database stores: odd offsets and year 1 or 9999 overflow.
        try:
            moment = value.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not 1970 <= moment.year <= 9000:
            raise serializers.ValidationError({"since": "Give a date between 1970 and 9000"})
        return queryset.filter(at__gte=moment)

    class Meta:
        model = AuditEvent
        fields = ["team", "action", "since"]
