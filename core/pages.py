"""Helpers for server-rendered pages: scope checks that answer 404, and rule refusals
turned into form errors."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest

from core.errors import ApplicationError
from core.scopes import has_scope


def require_scope(request: HttpRequest, scope: str) -> None:
    """Pages answer 404 (not 403) to a role without the scope: nothing to see here."""
    if not has_scope(request.user, scope):  # type: ignore[arg-type]
        raise Http404


def add_refusal(form: forms.Form, error: ApplicationError) -> None:
    """Puts a service refusal on the form: field messages on fields, rule sentences on top."""
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    if error.violations:
        for violation in error.violations:
            form.add_error(None, f"{violation.message} ({violation.rule})")
    elif not error.fields:
        form.add_error(None, error.message + (f" ({error.rule})" if error.rule else ""))
