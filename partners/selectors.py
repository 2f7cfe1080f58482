from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from core.choices import Role
from core.scopes import effective_role
from partners.models import Partner

if TYPE_CHECKING:
    from accounts.models import User


def partners_visible_to(user: User) -> QuerySet[Partner]:
    """Staff see all partners; customers see the FastTrack Ready directory (R-VOU-4);
    a partner user sees its own organisation only."""
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.FIELD_REP, Role.REVIEWER):
        return Partner.objects.all()
    if role == Role.CUSTOMER:
        return Partner.objects.filter(frp_approved=True)
    if role == Role.PARTNER and user.partner_id:
        return Partner.objects.filter(pk=user.partner_id)
    return Partner.objects.none()
