"""Reminder mails at batch speed (R-VOU-8, R-NOT-1).

A run may remind 100,000 vouchers; rendering two Django templates per voucher took about
a millisecond each, a hundred times the cost of writing the row (`make bench`). A `Stamp`
renders the template once with markers in place of the per-voucher values and fills the
markers by string joins, escaping as Django's autoescape does (`django.utils.html.escape`
is the standard library's `html.escape`): the result is byte for
byte what `render_to_string` gives for the same context (tests/test_reminder_mail.py).
The templates therefore take only plain values: numbers and dates are formatted here,
with the same filters the templates used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from html import escape
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.models import OutboundMail
from notifications.services import clean_addresses

_MARK = re.compile("\x00(\\d+)\x00")
_WS = re.compile(r"\s+")


@dataclass
class Due:
    """What a reminder says about one voucher, read for a whole batch in one query."""

    pk: int
    code: str
    customer_name: str
    offer_name: str
    value: Decimal
    expires_on: date
    partner_name: str | None
    rep_email: str
    contacts: list[str] = field(default_factory=list)  # the customer's active contacts
    partner_users: list[str] = field(default_factory=list)  # the partner's active users


@dataclass(slots=True)
class MailRow:
    """An outbox row before it is written: plain values, no model instance (a batch has
    thousands)."""

    kind: str
    dedupe_key: str
    to: list[str]
    cc: list[str]
    subject: str
    body_text: str
    body_html: str
    related_object: str

    def model(self) -> OutboundMail:
        return OutboundMail(
            kind=self.kind,
            dedupe_key=self.dedupe_key,
            to=self.to,
            cc=self.cc,
            subject=self.subject,
            body_text=self.body_text,
            body_html=self.body_html,
            related_object=self.related_object,
        )


class Stamp:
    """One template, rendered once with markers for `fields`, then filled per voucher."""

    def __init__(self, template: str, fields: tuple[str, ...], context: Mapping[str, Any]):
        self.html = template.endswith(".html")
        marks = {name: f"\x00{i}\x00" for i, name in enumerate(fields)}
        rendered = render_to_string(template, _nest({**context, **marks}))
        pieces = _MARK.split(rendered)
        self.text = pieces[0::2]
        self.slots = [fields[int(i)] for i in pieces[1::2]]

    def fill(self, values: Mapping[str, str]) -> str:
        out = [self.text[0]]
        for name, text in zip(self.slots, self.text[1:], strict=True):
            value = values[name]
            out.append(escape(value) if self.html else value)
            out.append(text)
        return "".join(out)


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"voucher.code": x} -> {"voucher": namespace(code=x)}, for the template's lookups."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        head, *rest = key.split(".")
        if not rest:
            out[head] = value
            continue
        node = out.setdefault(head, SimpleNamespace())
        for part in rest[:-1]:
            if not hasattr(node, part):
                setattr(node, part, SimpleNamespace())
            node = getattr(node, part)
        setattr(node, rest[-1], value)
    return out


EXPIRY_FIELDS = (
    "voucher.customer.name",
    "voucher.code",
    "voucher.offer.name",
    "value_text",
    "expires_text",
    "days_text",
    "voucher_url",
)
POE_FIELDS = (
    "voucher.partner.name",
    "voucher.code",
    "voucher.customer.name",
    "expires_text",
    "days_text",
    "voucher_url",
)


@lru_cache(maxsize=16)
def _stamps(template: str, with_partner: bool, site_url: str) -> tuple[Stamp, Stamp]:
    fields: tuple[str, ...] = EXPIRY_FIELDS if template == "mail/expiry_reminder" else POE_FIELDS
    if with_partner and "voucher.partner.name" not in fields:
        fields = (*fields, "voucher.partner.name")
    # A voucher without a partner renders the "forward it" branch of {% if voucher.partner %}.
    context: dict[str, Any] = {"site_url": site_url}
    if not with_partner:
        context["voucher.partner"] = None
        fields = tuple(f for f in fields if not f.startswith("voucher.partner."))
    return (
        Stamp(f"{template}.txt", fields, context),
        Stamp(f"{template}.html", fields, context),
    )


@lru_cache(maxsize=4)
def _url_parts(site_url: str) -> tuple[str, str]:
    before, after = reverse("voucher-detail", args=["VOUCHERCODE"]).split("VOUCHERCODE")
    return site_url + before, after


def voucher_url(code: str) -> str:
    """settings.SITE_URL + reverse("voucher-detail", args=[code]), without resolving the
    URLconf per voucher (codes are letters, digits and dashes: nothing to quote)."""
    before, after = _url_parts(settings.SITE_URL)
    return before + code + after


@lru_cache(maxsize=4096)
def money_text(value: Decimal) -> str:
    return str(intcomma(floatformat(value, 2)))


@lru_cache(maxsize=4096)
def day_text(day: date) -> str:
    return str(date_filter(day, "j F Y"))


def days_text(count: int) -> str:
    return f"{count} day" + ("" if count == 1 else "s")


def _mail(
    *,
    kind: str,
    template: str,
    due: Due,
    days: int,
    today: date,
    subject: str,
    to: list[str],
    cc: list[str],
    extra: Mapping[str, str],
) -> MailRow:
    text, html = _stamps(template, due.partner_name is not None, settings.SITE_URL)
    values = {
        "voucher.customer.name": due.customer_name,
        "voucher.code": due.code,
        "voucher.offer.name": due.offer_name,
        "voucher.partner.name": due.partner_name or "",
        "voucher_url": voucher_url(due.code),
        **extra,
    }
    recipients = clean_addresses(to)
    return MailRow(
        kind=kind,
        dedupe_key=f"reminder:{'expiry' if kind == 'expiry_reminder' else 'poe'}:{due.pk}:{days}",
        to=recipients,
        cc=[a for a in clean_addresses(cc) if a not in recipients],
        subject=_WS.sub(" ", subject).strip()[:250],
        body_text=text.fill(values),
        body_html=html.fill(values),
        related_object=f"voucher:{due.code}",
    )


def expiry_mail(due: Due, days: int, today: date) -> MailRow:
    """R-VOU-8 to the customer's contacts (the rep when there is none), R-NOT-1: the
    account team is cc'd."""
    left = (due.expires_on - today).days
    return _mail(
        kind="expiry_reminder",
        template="mail/expiry_reminder",
        due=due,
        days=days,
        today=today,
        subject=f"Your FastTrack voucher {due.code} expires in {days_text(left)}",
        to=due.contacts or [due.rep_email],
        cc=[due.rep_email],
        extra={
            "value_text": money_text(due.value),
            "expires_text": day_text(due.expires_on),
            "days_text": days_text(left),
        },
    )


def poe_mail(due: Due, days: int, today: date) -> MailRow:
    """To the partner's users: the POE is due before the voucher expires."""
    left = (due.expires_on - today).days
    return _mail(
        kind="poe_reminder",
        template="mail/poe_reminder",
        due=due,
        days=days,
        today=today,
        subject=f"Submit the POE for voucher {due.code}: {days_text(left)} left",
        to=due.partner_users,
        cc=[],
        extra={"expires_text": day_text(due.expires_on), "days_text": days_text(left)},
    )
