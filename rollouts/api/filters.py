import django_filters

from rollouts.models import Rollout, Status


class RolloutFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="model__name")
    alias = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Rollout
        fields = ["model", "alias", "status"]
