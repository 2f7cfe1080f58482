"""`{% load mail_quotes %}`: someone else's words in a mail template (notifications.quoting).

{% quote_html reason author=partner.name %}   in .html templates
{% quote_text reason author=partner.name %}   in .txt templates
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from notifications import quoting

register = template.Library()


@register.simple_tag
def quote_html(text: str, author: str) -> SafeString:
    return quoting.quote_html(str(text or ""), author=str(author or ""))


@register.simple_tag
def quote_text(text: str, author: str) -> str:
    return quoting.quote_text(str(text or ""), author=str(author or ""))
