"""How the portal says things: human labels for event actions and status codes, counted
nouns and possessives. Feature apps record events with short action codes
(`info_requested`); people read "More information requested"."""

from __future__ import annotations

from datetime import date
from typing import Any

# What an event row's action means to a person, by the subject it is about when the word
# differs between subjects. Unknown actions fall back to the code in words.
EVENT_LABELS: dict[str, str] = {
    "submitted": "Submitted",
    "approved": "Approved",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "edited": "Edited",
    "issued": "Voucher issued",
    "deal_closed": "Deal closed; voucher issued",
    "forwarded": "Forwarded to a partner",
    "claimed": "Claimed",
    "declined": "Declined by the partner",
    "expired": "Expired",
    "fully_redeemed": "Fully redeemed",
    "extension_requested": "Extension requested",
    "extension_approved": "Extension approved",
    "extension_rejected": "Extension refused",
    "taken": "Taken for review",
    "released": "Released for another reviewer",
    "info_requested": "More information requested",
    "amended": "Amended",
    "overdue": "Passed its review target",
    "disputed": "Disputed",
    "confirmed": "Confirmed paid",
    "revoked": "Revoked",
    "verified": "Verified",
}

# Status codes as words in a sentence ("submitted → more information requested").
STATE_LABELS: dict[str, str] = {
    "info_requested": "more information requested",
    "fully_redeemed": "fully redeemed",
    "smc_corporate": "SMC corporate",
    "smc_c": "SMC-C",
    "public_sector": "public sector",
    "us_federal": "US federal",
    "non_profit": "non-profit",
    "gpp": "GPP",
    "csp": "CSP",
}


def state_label(code: str) -> str:
    return STATE_LABELS.get(code, code.replace("_", " "))


def event_label(event: Any) -> str:
    """The event's action in words; the partner's words make an amendment an answer, and a
    forward names the partner it went to."""
    action = str(event.action)
    if action == "amended" and event.reason:
        return "Answered"
    if action in ("forwarded", "claimed", "declined") and (event.data or {}).get("partner"):
        label = EVENT_LABELS[action]
        partner = event.data["partner"]
        if action == "forwarded":
            return f"Forwarded to partner {partner}"
        return f"{label} ({partner})"
    return EVENT_LABELS.get(action, action.replace("_", " ").capitalize())


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 nomination', '3 nominations', never 'nomination(s)'."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def possessive(name: str) -> str:
    """'Contoso's', and 'Contoso Pharmaceuticals'' for a name ending in s."""
    return f"{name}\u2019" if name.endswith(("s", "S")) else f"{name}\u2019s"


def date_text(value: date) -> str:
    """A date in sentences and messages as on every screen: "6 Mar 2024" (the templates'
    `j M Y`)."""
    return f"{value.day} {value:%b %Y}"
