from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import ApiToken
from accounts.selectors import api_tokens_visible_to
from accounts.services import api_token_revoke, api_token_revoke_all
from core.scopes import acting_user


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@require_GET
def session_state(request: HttpRequest) -> JsonResponse:
    """Whether the browser's session is still signed in, and the CSRF token to send with
    the next form: a page checks it before sending a form, so that a session that expired
    while someone typed asks them to sign in again instead of dropping what they entered
    (the token changes at sign-in, and the cookie that holds it is not readable by scripts)."""
    return JsonResponse(
        {"authenticated": request.user.is_authenticated, "csrf": get_token(request)}
    )


def signed_in_again(request: HttpRequest) -> HttpResponse:
    """Where the sign-in opened from an expired form lands: the form waits in its tab."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('signed-in-again')}")
    return render(request, "accounts/signed_in_again.html")


# -- the signed-in user's API tokens ---------------------------------------------------------

ENDED_SHOWN_FOR = timedelta(days=30)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The caller's own API tokens: live ones, and those that ended in the last 30 days.
    Never a key: the database has none to show."""
    now = timezone.now()
    tokens = api_tokens_visible_to(acting_user(request)).order_by("-created_at", "-pk")
    live = Q(revoked_at__isnull=True, expires_at__gt=now)
    since = now - ENDED_SHOWN_FOR
    recent_end = Q(revoked_at__gte=since) | Q(revoked_at__isnull=True, expires_at__gte=since)
    return render(
        request,
        "accounts/token_list.html",
        {
            "live": list(tokens.filter(live)),
            "ended": list(tokens.exclude(live).filter(recent_end)[:50]),
            "ttl_hours": settings.API_TOKEN_TTL.total_seconds() / 3600,
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revokes one of the caller's tokens; another user's is 404, like a missing one."""
    user = acting_user(request)
    token = get_object_or_404(api_tokens_visible_to(user), pk=pk)
    if api_token_revoke(token_id=token.pk, user=user, reason=ApiToken.RevokedReason.PAGE):
        messages.success(request, f"Revoked {token.prefix}…; it now answers 401.")
    else:
        messages.info(request, f"{token.prefix}… had already ended.")
    return redirect("token-list")


@login_required
@require_POST
def token_revoke_all(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    count = api_token_revoke_all(user=user, reason=ApiToken.RevokedReason.PAGE, actor=user)
    messages.success(request, f"Revoked {count} token{pluralize(count)}.")
    return redirect("token-list")
