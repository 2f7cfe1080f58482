"""Who may do what, as data: each role holds scopes, each endpoint method needs one.

Read this table to know what a role can reach. Tenancy (which objects) is decided
separately by one selector per model; a scope only opens the endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from core.choices import Role

if TYPE_CHECKING:
    from accounts.models import User

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.PROGRAM_MANAGER: frozenset(
        {
            "programs:read",
            "programs:write",
            "customers:read",
            "customers:add",
            "customers:write",
            "customers:verify",
            "partners:read",
            "partners:write",
            "users:read",
            "users:write",
            "fx:read",
            "fx:write",
            "mail:read",
            "nominations:read",
            "nominations:decide",
            "vouchers:read",
            "vouchers:pdf",
            "requests:read",
            "payments:read",
            "payments:manage",
            "statements:read",
            "disputes:read",
            "disputes:resolve",
            "reports:read",
        }
    ),
    Role.FIELD_REP: frozenset(
        {
            "programs:read",
            "customers:read",
            "customers:add",  # a customer not yet in the portal, unverified (R-ELIG-8)
            "partners:read",
            "nominations:read",
            "nominations:write",
            "vouchers:read",
            "vouchers:pdf",
            "requests:read",
        }
    ),
    Role.REVIEWER: frozenset(
        {
            "programs:read",
            "customers:read",
            "partners:read",
            "fx:read",
            "nominations:read",
            "vouchers:read",
            "requests:read",
            "requests:review",
            "payments:read",
            "statements:read",
            "disputes:read",
            "disputes:resolve",
            "extensions:decide",
        }
    ),
    Role.CUSTOMER: frozenset(
        {
            "programs:read",
            "customers:read",
            "partners:read",
            "vouchers:read",
            "vouchers:pdf",
            "vouchers:forward",
            "requests:read",
            "extensions:request",
        }
    ),
    Role.PARTNER: frozenset(
        {
            "programs:read",
            "partners:read",
            "fx:read",
            "vouchers:read",
            "vouchers:claim",
            "vouchers:templates",
            "requests:read",
            "requests:submit",
            "payments:read",
            "statements:read",
            "disputes:read",
            "disputes:open",
        }
    ),
}


def effective_role(user: User) -> str:
    """A superuser acts as program manager (api.md, Conventions)."""
    if not user.is_authenticated or not user.is_active:
        return ""
    if user.is_superuser:
        return Role.PROGRAM_MANAGER
    return user.role


def has_scope(user: User, scope: str) -> bool:
    return scope in ROLE_SCOPES.get(effective_role(user), frozenset())


def acting_user(request: object) -> User:
    """The signed-in user of a page or API request. Views reach services only behind
    login_required or a scope permission, so the user is authenticated."""
    user = getattr(request, "user", None)
    if not isinstance(user, get_user_model()) or not user.is_authenticated:
        raise PermissionError("An authenticated user is required.")
    return user
