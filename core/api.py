"""Shared API building blocks."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from core.permissions import HasScope


class ScopedViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """A viewset whose queryset comes from one selector and whose access is a scope map.

    Subclasses set `scope_map`/`action_scopes` and implement `selector(user)`; objects
    outside the selector's result answer 404 like missing ones.
    """

    permission_classes = [HasScope]
    scope_map: dict[str, str] = {}
    action_scopes: dict[str, str] = {}

    def selector(self, user: Any) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        return self.selector(self.request.user)
