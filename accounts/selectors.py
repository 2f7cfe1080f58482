from django.db.models import QuerySet

from accounts.models import ApiToken, User
from core.choices import Role
from core.scopes import effective_role


def users_visible_to(user: User) -> QuerySet[User]:
    """Program managers see every user; everyone else only themselves."""
    if effective_role(user) == Role.PROGRAM_MANAGER:
        return User.objects.select_related("customer", "partner")
    if user.is_authenticated:
        return User.objects.filter(pk=user.pk).select_related("customer", "partner")
    return User.objects.none()


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """Everyone, program managers too, sees only their own API tokens: another user's
    answers 404 like a missing one."""
    if user.is_authenticated:
        return ApiToken.objects.filter(user=user)
    return ApiToken.objects.none()
