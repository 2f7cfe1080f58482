"""`{% sort_header "Decided" "decided" %}`: a column header that sorts the list by its
column, ascending first, then descending; it keeps the search and filters, and says the
current order to screen readers (aria-sort)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: Any, label: str, key: str, css: str = "") -> str:
    listing = context["listing"]
    request = context["request"]
    current = listing.direction(key)
    params = request.GET.copy()
    params["sort"] = f"-{key}" if current == "ascending" else key
    params.pop("page", None)
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(current, "")
    return format_html(
        '<th scope="col"{}{}><a class="sort" href="?{}">{}'
        '<span aria-hidden="true">{}</span></a></th>',
        format_html(' class="{}"', css) if css else "",
        format_html(' aria-sort="{}"', current) if current else "",
        params.urlencode(),
        label,
        arrow,
    )
