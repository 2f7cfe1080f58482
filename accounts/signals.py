"""A password change or a deactivation revokes every API token of the user (api.md,
Conventions), whichever path saved it: the admin's forms, `manage.py changepassword`, a
service, or `set_password()` and `save()` in a shell.

`pre_save` compares the row about to be written with the stored one (one read, only when
the password or `is_active` may be among the fields written); `post_save` revokes, in the
save's own transaction when there is one. Django re-hashing a password on sign-in (a
hasher upgrade: same password, new hash, `save(update_fields=["password"])` without
`set_password`'s mark) is not a change. `QuerySet.update()` sends no signals: a user
deactivated that way keeps the rows, but the authentication statement refuses an inactive
user's tokens on every request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import is_password_usable
from django.db.models.signals import post_save, pre_save

from accounts.models import ApiToken, User
from accounts.services import api_token_revoke_all

_PENDING = "_api_token_revocation"  # set on the instance between pre_save and post_save


def _is_rehash(user: User, old_password: str, update_fields: Any) -> bool:
    """Django's check_password setter: `_password` cleared, only the password saved."""
    return (
        update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(user, "_password", None) is None
        and is_password_usable(old_password)
        and is_password_usable(user.password)
    )


def note_credential_change(
    sender: type[User], instance: User, raw: bool = False, update_fields: Any = None, **_: Any
) -> None:
    setattr(instance, _PENDING, "")
    if raw or instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", "is_active")
    old = stored.first()
    if old is None:
        return
    old_password, was_active = old
    if was_active and not instance.is_active:
        setattr(instance, _PENDING, ApiToken.RevokedReason.DEACTIVATED)
    elif instance.password != old_password and not _is_rehash(
        instance, old_password, update_fields
    ):
        setattr(instance, _PENDING, ApiToken.RevokedReason.PASSWORD_CHANGED)


def revoke_tokens_on_credential_change(sender: type[User], instance: User, **_: Any) -> None:
    reason = getattr(instance, _PENDING, "")
    if not reason:
        return
    setattr(instance, _PENDING, "")
    api_token_revoke_all(user=instance, reason=reason)


def connect() -> None:
    pre_save.connect(note_credential_change, sender=User, dispatch_uid="accounts.tokens.pre")
    post_save.connect(
        revoke_tokens_on_credential_change, sender=User, dispatch_uid="accounts.tokens.post"
    )
