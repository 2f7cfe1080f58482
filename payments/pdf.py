from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from core.pdf import render_pdf
from payments.services import Statement


def render_statement_pdf(statement: Statement) -> bytes:
    """The partner's FastTrack statement for a month (R-PAY-3)."""
    return render_pdf(
        "payments/statement_pdf.html",
        {"s": statement, "site_url": settings.SITE_URL, "generated_on": timezone.localdate()},
    )
