"""HTML templates to PDF with WeasyPrint, never fetching anything: the URL fetcher allows
only `data:` URLs, so no text in a document can make the renderer touch the network or
the file system."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher


def _fetcher() -> URLFetcher:
    return URLFetcher(allowed_protocols=("data",), fail_on_errors=False)


@lru_cache(maxsize=1)
def font_config() -> FontConfiguration:
    """One per process: building it reads the system's font list (`make bench`)."""
    return FontConfiguration()


@lru_cache(maxsize=8)
def stylesheet(path: str) -> weasyprint.CSS:
    """A template folder's CSS file, parsed and its selectors compiled once per process:
    parsing a document's <style> on every render was a fifth of a voucher PDF (`make bench`)."""
    source = Path(settings.BASE_DIR) / "templates" / path
    return weasyprint.CSS(
        string=source.read_text(), url_fetcher=_fetcher(), font_config=font_config()
    )


def layout(template: str, context: dict[str, Any], *, css: str | None = None) -> Any:
    """The laid-out document (its `.pages` can be counted before writing). `css` names a
    stylesheet under templates/ applied as if it were the document's own."""
    html = render_to_string(template, context)
    return weasyprint.HTML(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=_fetcher()
    ).render(
        stylesheets=[stylesheet(css)] if css else None,
        font_config=font_config(),
    )


def to_bytes(document: Any) -> bytes:
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):  # write_pdf() without a target returns the bytes
        raise TypeError("WeasyPrint returned no PDF bytes")
    return pdf


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    return to_bytes(layout(template, context))
