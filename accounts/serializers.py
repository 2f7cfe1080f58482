from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from accounts.models import User
from core.choices import Role


class UserSerializer(serializers.ModelSerializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+$",
        max_length=150,
        validators=[
            UniqueValidator(queryset=User.objects.all(), message="This username is taken.")
        ],
    )
    email = serializers.EmailField()
    password = serializers.CharField(
        write_only=True, min_length=8, max_length=128, style={"input_type": "password"}
    )
    role = serializers.ChoiceField(choices=Role.choices)
    organisation = serializers.CharField(
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

    def to_representation(self, instance: User) -> dict:
        data = super().to_representation(instance)
        if instance.customer is not None:
            data["organisation"] = instance.customer.tpid
        elif instance.partner is not None:
            data["organisation"] = instance.partner.partner_id
        else:
            data["organisation"] = ""
        data["role"] = instance.acting_role
        return data
