"""API token authentication in one prepared statement (the benchmark's `api_ratio`).

DRF's TokenAuthentication builds an ORM query with select_related on every call: a third
of a voucher lookup's time went to compiling and planning it. This answers the same
question (the active user behind the `Authorization: Token <key>` header) with one
prepared statement. Same errors, same header, same `request.auth` (the key)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.db import fetch_one_prepared

_FIELDS = [field.attname for field in User._meta.concrete_fields]
_USER_BY_TOKEN = (
    "SELECT "  # noqa: S608 - column names from the model, the key is a parameter
    + ", ".join(f'u."{column}"' for column in (f.column for f in User._meta.concrete_fields))
    + f' FROM "{Token._meta.db_table}" t JOIN "{User._meta.db_table}" u'
    + f' ON u."{User._meta.pk.column}" = t."{Token._meta.get_field("user").column}"'
    + f' WHERE t."{Token._meta.get_field("key").column}" = %s'
)


class PortalTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if connection.vendor != "postgresql":
            return super().authenticate_credentials(key)
        row = fetch_one_prepared(_USER_BY_TOKEN, [key])
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = User.from_db(connection.alias, _FIELDS, row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, key
