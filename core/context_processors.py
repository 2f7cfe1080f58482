from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from core.choices import Role
from core.scopes import effective_role, has_scope


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu a person sees follows their role's scopes."""
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": [], "acting_role": ""}
    items = [("Home", reverse("home"))]
    if has_scope(user, "reports:read"):
        items.append(("Dashboard", reverse("dashboard")))
    if has_scope(user, "nominations:write"):
        items.append(("My vouchers", reverse("rep-board")))
    if has_scope(user, "nominations:read"):
        items.append(("Nominations", reverse("nomination-list")))
    if has_scope(user, "nominations:write") or has_scope(user, "nominations:decide"):
        items.append(("Import", reverse("import-list")))
    if has_scope(user, "vouchers:read"):
        items.append(("Vouchers", reverse("voucher-list")))
    if has_scope(user, "requests:review"):
        items.append(("Review queue", reverse("review-queue")))
    if has_scope(user, "payments:read"):
        items.append(("Payments", reverse("payment-list")))
    if has_scope(user, "disputes:resolve"):
        items.append(("Disputes", reverse("dispute-list")))
    if has_scope(user, "vouchers:claim"):
        items.append(("Claim", reverse("voucher-claim")))
    if has_scope(user, "programs:write"):
        items.append(("Admin", reverse("admin:index")))
    if has_scope(user, "mail:read"):
        items.append(("Sent mail", reverse("mail-list")))
    role = effective_role(user)
    return {
        "nav_items": items,
        "acting_role": role,
        "acting_role_label": Role(role).label if role else "No role",
    }
