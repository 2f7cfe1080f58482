"""Writes on payment requests (R-RED-*, R-DOC-*, R-PAY-*), one module a concern:
`submission` (a partner submits and amends), `review` (a QTM reviewer takes, asks,
rejects and approves), `overdue` (the daily overdue flag). Import from here."""

from redemptions.services.overdue import flag_overdue_reviews
from redemptions.services.review import (
    request_approve,
    request_ask,
    request_reject,
    request_release,
    request_take,
)
from redemptions.services.submission import request_amend, request_submit

__all__ = [
    "flag_overdue_reviews",
    "request_amend",
    "request_approve",
    "request_ask",
    "request_reject",
    "request_release",
    "request_submit",
    "request_take",
]
