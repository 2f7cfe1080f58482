from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.selectors import users_visible_to
from accounts.serializers import AuthTokenIssuedSerializer, AuthTokenSerializer, UserSerializer
from accounts.services import api_token_issue, api_token_revoke, user_create
from core.api import ScopedViewSet
from core.errors import ApplicationError
from core.ratelimit import FailOpenScopedRateThrottle, RateLimited
from core.schema import ErrorSerializer


class TokenView(APIView):
    """`POST {"username", "password"}` issues a new token, `{"token", "expires_at"}`, for
    `Authorization: Token <key>`; `DELETE` with that header revokes it."""

    throttle_scope = "login"  # POST only (get_throttles); the cache down lets logins through

    def _issuing(self) -> bool:
        # `request` is the HttpRequest until DRF wraps it (Django's View.setup() sets it
        # before dispatch); None while drf-spectacular builds its mock request.
        request = getattr(self, "request", None)
        return request is not None and request.method == "POST"

    def get_authenticators(self) -> list[BaseAuthentication]:
        # POST carries its credentials in the body: a stale `Authorization` header a client
        # still sends must not stand between it and a new token.
        return [] if self._issuing() else super().get_authenticators()

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self._issuing() else [IsAuthenticated()]

    def get_throttles(self) -> list[Any]:
        return [FailOpenScopedRateThrottle()] if self._issuing() else []

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: AuthTokenIssuedSerializer,
            429: OpenApiResponse(
                response=ErrorSerializer,
                description="Too many attempts, or the account is locked out (`Retry-After`).",
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new token on every call (the key is shown only here), valid for API_TOKEN_TTL.
        A locked-out account (django-axes) answers 429, not "unable to log in"."""
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if AxesProxyHandler.is_locked(request._request, {"username": username}):
            pause = int(settings.AXES_COOLOFF_TIME.total_seconds())
            raise RateLimited(
                f"Too many failed attempts; signing in is paused for {pause // 60} minutes.",
                retry_after=pause,
            )
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, key = api_token_issue(
            user=serializer.validated_data["user"],
            name=serializer.validated_data.get("name", ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(
            AuthTokenIssuedSerializer({"token": key, "expires_at": token.expires_at}).data
        )

    @extend_schema(
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(
                response=ErrorSerializer,
                description="Not authenticated by a token (a browser session): nothing to revoke.",
            ),
        },
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revokes the token this request is authenticated with; it answers 401 afterwards.
        A browser session has no token to revoke (the tokens page lists them)."""
        if not isinstance(request.auth, ApiToken):
            raise ApplicationError(
                "This request is not authenticated by an API token; send the token to revoke "
                "as `Authorization: Token <key>`.",
                code="not_token_authenticated",
            )
        api_token_revoke(
            token_id=request.auth.pk,
            user=request.user,  # type: ignore[arg-type]
            reason=ApiToken.RevokedReason.DELETED,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Users with one role each; program managers create them."""

    serializer_class = UserSerializer
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering_fields = ["username", "date_joined", "role"]
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
