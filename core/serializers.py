from rest_framework import serializers

from core.models import Event


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = Event
        fields = ["at", "action", "from_state", "to_state", "actor", "reason", "data"]
