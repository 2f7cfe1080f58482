from typing import Any

from django.contrib.auth import authenticate
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from accounts.models import User
from core.choices import Role
from core.serializers import ModelSerializer, Serializer, StrictCharField


class UserSerializer(ModelSerializer):
    # ASCII letters and digits (a Python `\w` would also take "ý", which the published
    # pattern, read as JSON Schema's ECMA regex, does not); no whitespace is trimmed.
    username = serializers.RegexField(
        r"^[A-Za-z0-9_.@+-]+$",
        max_length=150,
        trim_whitespace=False,
        validators=[
            UniqueValidator(queryset=User.objects.all(), message="This username is taken.")
        ],
    )
    email = serializers.EmailField()
    password = StrictCharField(
        write_only=True, min_length=8, max_length=128, style={"input_type": "password"}
    )
    role = serializers.ChoiceField(choices=Role.choices)
    organisation = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Customer TPID for customer users, partner ID for partner users.",
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "password",
            "role",
            "organisation",
            "first_name",
            "last_name",
        ]
        read_only_fields = ["id"]

    def to_representation(self, instance: User) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.customer is not None:
            data["organisation"] = instance.customer.tpid
        elif instance.partner is not None:
            data["organisation"] = instance.partner.partner_id
        else:
            data["organisation"] = ""
        data["role"] = instance.acting_role
        return data


class AuthTokenSerializer(Serializer):
    """`POST /api/v1/auth/token/`: the credentials, checked by Django's backends (with
    django-axes), and an optional name to tell the token apart on the tokens page."""

    username = StrictCharField(write_only=True)
    password = StrictCharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    name = StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="A label for the tokens page (which script or machine holds it).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # DRF's AuthTokenSerializer's check and message, as the endpoint always answered.
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        attrs["user"] = user
        return attrs


class AuthTokenIssuedSerializer(Serializer):
    token = serializers.CharField(
        help_text="Send as `Authorization: Token <token>`. Shown only in this answer."
    )
    expires_at = serializers.DateTimeField()
