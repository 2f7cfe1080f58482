"""HTML templates to PDF with WeasyPrint, never fetching anything: the URL fetcher allows
only `data:` URLs, so no text in a document can make the renderer touch the network or
the file system."""

from __future__ import annotations

from typing import Any

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher


def layout(template: str, context: dict[str, Any]) -> Any:
    """The laid-out document (its `.pages` can be counted before writing)."""
    html = render_to_string(template, context)
    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=False)
    return weasyprint.HTML(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher
    ).render()


def to_bytes(document: Any) -> bytes:
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):  # write_pdf() without a target returns the bytes
        raise TypeError("WeasyPrint returned no PDF bytes")
    return pdf


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    return to_bytes(layout(template, context))
