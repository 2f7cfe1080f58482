"""API token authentication (`Authorization: Token <key>`) in one prepared statement (the
benchmark's `api_ratio`).

The key is hashed (accounts.services.api_token_digest) and looked up by that digest; the
same statement joins the user and says whether the token is revoked or expired and the
user inactive, so a request costs one planned-once statement on PostgreSQL. Other
databases (SQLite) ask the ORM the same question. `request.auth` is the ApiToken (its id,
user, expiry and last use loaded), which DELETE /api/v1/auth/token/ revokes.

A token that authenticates has its `last_used_at` written at most every few minutes
(accounts.services.api_token_touch), never on every request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken, User
from core.db import fetch_one_prepared

_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
_TOKEN_FIELDS = ["id", "user_id", "expires_at", "last_used_at"]


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # a concrete column, not a reverse relation
    return f'"{field.column}"'


def _t(name: str) -> str:
    return "t." + _column(ApiToken, name)


def _u(name: str) -> str:
    return "u." + _column(User, name)


# PostgreSQL only: parameters are the current time, then the key's digest.
_TOKEN_BY_DIGEST = (
    "SELECT "  # noqa: S608 - names from the models; the time and the digest are parameters
    + ", ".join(_t(name) for name in ("id", "user", "expires_at", "last_used_at"))
    + f", CASE WHEN {_t('revoked_at')} IS NOT NULL THEN 'revoked'"
    + f" WHEN {_t('expires_at')} <= %s THEN 'expired'"
    + f" WHEN NOT {_u('is_active')} THEN 'inactive' ELSE 'active' END, "
    + ", ".join(_u(field.name) for field in User._meta.concrete_fields)
    + f' FROM "{ApiToken._meta.db_table}" t JOIN "{User._meta.db_table}" u'
    + f" ON {_u('id')} = {_t('user')}"
    + f" WHERE {_t('digest')} = %s"
)


def _lookup_postgresql(digest: str, now: datetime) -> tuple[ApiToken, User, str] | None:
    row = fetch_one_prepared(_TOKEN_BY_DIGEST, [now, digest])
    if row is None:
        return None
    token = ApiToken.from_db(connection.alias, _TOKEN_FIELDS, row[:4])
    user = User.from_db(connection.alias, _USER_FIELDS, row[5:])
    return token, user, str(row[4])


def _lookup_orm(digest: str, now: datetime) -> tuple[ApiToken, User, str] | None:
    token = ApiToken.objects.select_related("user").filter(digest=digest).first()
    if token is None:
        return None
    state = token.state(now)
    if state == "active" and not token.user.is_active:
        state = "inactive"
    return token, token.user, state


class PortalTokenAuthentication(TokenAuthentication):
    """DRF's header parsing (`Token <key>`, its errors and `WWW-Authenticate: Token`);
    our tokens behind it. Every refusal is a 401 with the API's error body."""

    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        # Not at the top: DRF imports this class while core.errors, which the services
        # import, is still loading (rest_framework.views reads the authentication setting).
        from accounts.services import api_token_digest, api_token_touch

        now = timezone.now()  # Python's clock, not the database's: one clock for all
        lookup = _lookup_postgresql if connection.vendor == "postgresql" else _lookup_orm
        found = lookup(api_token_digest(key), now)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token, user, state = found
        if state == "revoked":
            raise exceptions.AuthenticationFailed(
                "This token was revoked; ask POST /api/v1/auth/token/ for a new one.",
                code="token_revoked",
            )
        if state == "expired":
            raise exceptions.AuthenticationFailed(
                "This token has expired; ask POST /api/v1/auth/token/ for a new one.",
                code="token_expired",
            )
        if state != "active":
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user = user
        api_token_touch(token=token, now=now)
        return user, token
