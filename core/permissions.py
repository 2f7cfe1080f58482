from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.scopes import has_scope


class HasScope(BasePermission):
    """Checks the view's `scope_map` ({"GET": "x:read", "POST": "x:write"} or per action).

    A view may name scopes per action with `action_scopes = {"approve": "..."}`;
    otherwise the HTTP method decides. No entry means no access.
    """

    message = "Your role may not use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None)
        scope = getattr(view, "action_scopes", {}).get(action) if action else None
        if scope is None:
            scope = getattr(view, "scope_map", {}).get(request.method or "")
        if scope is None and request.method in ("HEAD", "OPTIONS"):
            scope = getattr(view, "scope_map", {}).get("GET")
        return bool(scope) and has_scope(user, scope)  # type: ignore[arg-type]
