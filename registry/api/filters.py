from datetime import UTC, datetime

import django_filters
from django.db.models import Q, QuerySet
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
    model = django_filters.CharFilter(method="filter_model", help_text="Events of this model, its versions and aliases")
    actor = django_filters.CharFilter(field_name="actor__username")
    since = django_filters.IsoDateTimeFilter(method="filter_since")
    until = django_filters.IsoDateTimeFilter(method="filter_until")

    def filter_model(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        target = f"model:{value}"
        return queryset.filter(Q(target=target) | Q(target__startswith=f"{target}/")
                               | Q(target__startswith=f"{target}@"))

    def filter_since(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        return queryset.filter(at__gte=_moment(value, "since"))

    def filter_until(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        return queryset.filter(at__lt=_moment(value, "until"))

    class Meta:
        model = AuditEvent
        fields = ["team", "action", "model", "actor", "since", "until"]


def _moment(value: datetime, field: str) -> datetime:
    # In UTC and within the years a database stores: odd offsets and year 1 or 9999 overflow.
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not 1970 <= moment.year <= 9000:
        raise serializers.ValidationError({field: "Give a date between 1970 and 9000"})
    return moment
