from datetime import UTC, datetime

from rest_framework import serializers

from registry.models import ALIAS_VALIDATOR


class TimelineQuerySerializer(serializers.Serializer):
    alias = serializers.CharField(max_length=50, required=False, default="production", validators=[ALIAS_VALIDATOR])
    at = serializers.DateTimeField(required=False)

    def validate_at(self, value: datetime) -> datetime:
        # In UTC and within the years a database stores: odd offsets and year 1 or 9999 overflow.
        try:
            moment = value.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not 1970 <= moment.year <= 9000:
            raise serializers.ValidationError("Give a time between 1970 and 9000")
        return moment
