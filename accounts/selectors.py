from django.db.models import QuerySet

from accounts.models import User
from core.choices import Role
from core.scopes import effective_role


def users_visible_to(user: User) -> QuerySet[User]:
    """Program managers see every user; everyone else only themselves."""
    if effective_role(user) == Role.PROGRAM_MANAGER:
        return User.objects.select_related("customer", "partner")
    if user.is_authenticated:
        return User.objects.filter(pk=user.pk).select_related("customer", "partner")
    return User.objects.none()
