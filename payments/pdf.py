from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from core.pdf import render_pdf
from payments.services import Statement


def render_statement_pdf(statement: Statement) -> bytes:
    """The partner's FastTrack statement for a month (R-PAY-3)."""
    return render_pdf(
        "payments/statement_pdf.html",
        {
            "s": statement,
            # A partner paid in USD gets one amount column and one total, not two equal ones.
            "local": statement.partner.currency != "USD",
            "site_url": settings.SITE_URL,
            "generated_on": timezone.localdate(),
        },
    )
