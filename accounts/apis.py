from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import users_visible_to
from accounts.serializers import UserSerializer
from accounts.services import user_create
from core.api import ScopedViewSet
from core.ratelimit import FailOpenScopedRateThrottle, RateLimited


class TokenView(ObtainAuthToken):
    """`POST {"username", "password"}` returns `{"token"}` for `Authorization: Token <key>`."""

    throttle_classes = [FailOpenScopedRateThrottle]  # the cache down lets logins through
    throttle_scope = "login"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A locked-out account (django-axes) answers 429, not "unable to log in"."""
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if AxesProxyHandler.is_locked(request._request, {"username": username}):
            pause = int(settings.AXES_COOLOFF_TIME.total_seconds())
            raise RateLimited(
                f"Too many failed attempts; signing in is paused for {pause // 60} minutes.",
                retry_after=pause,
            )
        return super().post(request, *args, **kwargs)


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Users with one role each; program managers create them."""

    serializer_class = UserSerializer
    scope_map = {"GET": "users:read", "POST": "users:write"}
    filterset_fields = ["role"]

    def selector(self, user: Any) -> Any:
        return users_visible_to(user).order_by("username")

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return Response(self.get_serializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=UserSerializer)
    @action(detail=False, methods=["get"], permission_classes=[IsAuthenticated])
    def me(self, request: Request) -> Response:
        """The calling user, any role."""
        return Response(self.get_serializer(request.user).data)
