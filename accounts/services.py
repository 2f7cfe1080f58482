from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.selectors import api_tokens_visible_to
from accounts.ttl import check_ttl
from core.choices import Role
from core.errors import ApplicationError
from core.events import event_record
from core.models import Event
from customers.models import Customer
from partners.models import Partner


def user_create(
    *,
    username: str,
    email: str,
    password: str,
    role: str,
    organisation: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Creates a user with one role; customer and partner users name their organisation
    by TPID or partner ID."""
    customer = partner = None
    if role == Role.CUSTOMER:
        customer = Customer.objects.filter(tpid=organisation).first()
        if customer is None:
            raise ApplicationError(
                "A customer user needs the TPID of an existing customer.",
                fields={"organisation": [f"No customer with TPID {organisation!r}."]},
                code="unknown_organisation",
            )
    elif role == Role.PARTNER:
        partner = Partner.objects.filter(partner_id=organisation).first()
        if partner is None:
            raise ApplicationError(
                "A partner user needs the partner ID of an existing partner.",
                fields={"organisation": [f"No partner with ID {organisation!r}."]},
                code="unknown_organisation",
            )
    elif organisation:
        raise ApplicationError(
            "Only customer and partner users belong to an organisation.",
            fields={"organisation": ["Leave empty for this role."]},
            code="role_organisation",
        )
    user = User(
        username=username,
        email=email,
        role=role,
        customer=customer,
        partner=partner,
        first_name=first_name,
        last_name=last_name,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(
            "The password is too weak.", fields={"password": exc.messages}, code="weak_password"
        ) from exc
    user.set_password(password)
    with transaction.atomic():
        user.full_clean(exclude=["password"])
        user.save()
    return user


# -- API tokens (api.md, Conventions: Auth) ------------------------------------------------

# "voucher portal token": a key is recognisable in logs and by secret scanners.
TOKEN_KEY_START = "vpt_"  # noqa: S105 - a fixed marker, not a secret
# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=5)


def api_token_digest(key: str) -> str:
    """What the database keeps of a key: its SHA-256, hex. The key holds 256 random bits,
    so a plain hash cannot be reversed by guessing (no salt or slow hash needed), and it
    does not depend on SECRET_KEY: rotating that does not sign everyone's scripts out."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(
    *,
    user: User,
    ttl: timedelta | None = None,
    name: str = "",
    user_agent: str = "",
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key, which exists only in this return value: the
    database holds its digest. `ttl` defaults to settings.API_TOKEN_TTL and may not pass
    30 days (ValueError otherwise; the database refuses it too)."""
    if ttl is None:
        lifetime = check_ttl(settings.API_TOKEN_TTL)
    else:
        try:
            lifetime = check_ttl(ttl, source="ttl")
        except ImproperlyConfigured as exc:
            raise ValueError(str(exc)) from exc
    key = TOKEN_KEY_START + secrets.token_urlsafe(6) + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            prefix=key[: len(TOKEN_KEY_START) + 8],
            digest=api_token_digest(key),
            name=name[:100],
            user_agent=user_agent[:200],
            created_at=now,
            expires_at=now + lifetime,
        )
        event_record(
            subject="api_token",
            subject_id=token.pk,
            action="issued",
            actor=user,
            to_state="active",
            data={
                "user": user.pk,
                "prefix": token.prefix,
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, key


def api_token_revoke(*, token_id: int, user: User, reason: str) -> bool:
    """Revokes one of `user`'s own tokens (another user's raises ApiToken.DoesNotExist,
    like a missing one). False when there was nothing to do: already revoked or expired."""
    with transaction.atomic():
        token = api_tokens_visible_to(user).select_for_update().get(pk=token_id)
        now = timezone.now()
        if token.state(now) != "active":
            return False
        token.revoked_at = now
        token.revoked_reason = reason
        token.save(update_fields=["revoked_at", "revoked_reason"])
        event_record(
            subject="api_token",
            subject_id=token.pk,
            action="revoked",
            actor=user,
            from_state="active",
            to_state="revoked",
            reason=ApiToken.RevokedReason(reason).label,
            data={"user": user.pk, "prefix": token.prefix},
        )
    return True


def api_token_revoke_all(*, user: User, reason: str, actor: User | None = None) -> int:
    """Revokes every live token of `user` (the tokens page's "revoke all", a password
    change, a deactivation); how many. Expired tokens are left as they are: already dead."""
    with transaction.atomic():
        now = timezone.now()
        live = list(
            ApiToken.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
            .values_list("pk", "prefix")
        )
        if not live:
            return 0
        ApiToken.objects.filter(pk__in=[pk for pk, _ in live]).update(
            revoked_at=now, revoked_reason=reason
        )
        label = ApiToken.RevokedReason(reason).label
        Event.objects.bulk_create(
            Event(
                subject="api_token",
                subject_id=pk,
                action="revoked",
                actor=actor if actor is not None and actor.is_authenticated else None,
                from_state="active",
                to_state="revoked",
                reason=label,
                data={"user": user.pk, "prefix": prefix},
            )
            for pk, prefix in live
        )
    return len(live)


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Records that `token` was used, at most once per LAST_USED_EVERY, so a busy script
    writes once in five minutes, not on every call. Of two requests racing past the first
    check, the second UPDATE matches no row."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
