"""Template filters for core.words: `{{ event|event_label }}`, `{{ code|state_label }}`,
`{{ name|possessive }}`."""

from __future__ import annotations

from typing import Any

from django import template

from core import words

register = template.Library()


@register.filter
def event_label(event: Any) -> str:
    return words.event_label(event)


@register.filter
def state_label(code: str) -> str:
    return words.state_label(str(code or ""))


@register.filter
def possessive(name: str) -> str:
    return words.possessive(str(name))
