from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.pages import (
    LoginView,
    session_state,
    signed_in_again,
    token_list,
    token_revoke,
    token_revoke_all,
)

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("session/", session_state, name="session-state"),
    path("session/signed-in-again/", signed_in_again, name="signed-in-again"),
    path("account/tokens/", token_list, name="token-list"),
    path("account/tokens/revoke-all/", token_revoke_all, name="token-revoke-all"),
    path("account/tokens/<int:pk>/revoke/", token_revoke, name="token-revoke"),
]
