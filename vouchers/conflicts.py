"""R-VOU-7, conflict of interest: is a partner part of the customer's own company?

Three kinds of evidence are weighed, and any one of them is a definite match:

- the ultimate-parent key (`company`) both organisations carry, when both have one;
- the legal name, once case, accents, punctuation, spacing and the legal form
  (`LEGAL_FORM_SUFFIXES`) are set aside: "Contoso Ltd" is "CONTOSO, Inc.";
- a corporate mail domain shared by the customer's contacts and the partner's users
  (`eu.contoso.com` shares `contoso.com`); public mail providers (`PUBLIC_MAIL_DOMAINS`)
  and the reserved placeholder domains (`PLACEHOLDER_MAIL_DOMAINS`) are nobody's company.

A definite match refuses forwarding and claiming. When nothing matched but a side lacks
evidence (no ultimate-parent key, or no one with a corporate mail domain), the check was not
made with confidence: the claim goes through, and the reason is kept on the voucher so that
the reviewer sees it on every payment request.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from accounts.models import User
from core.words import possessive
from customers.models import Customer
from partners.models import Partner

# Legal forms dropped from the end of a legal name before names are compared, as the
# words `legal_name_key` leaves of them (lower case, no dots): "S.A. de C.V." is "sa de cv".
LEGAL_FORM_SUFFIXES: frozenset[str] = frozenset(
    {
        "ab",
        "ag",
        "bv",
        "co",
        "corp",
        "corporation",
        "gmbh",
        "inc",
        "incorporated",
        "kg",
        "limited",
        "llc",
        "llp",
        "ltd",
        "nv",
        "plc",
        "pte",
        "pty",
        "sa",
        "sa de cv",
        "sarl",
        "sas",
        "spa",
        "srl",
    }
)
_LONGEST_SUFFIX = max(len(suffix.split()) for suffix in LEGAL_FORM_SUFFIXES)

# Mail providers anyone can sign up with: a shared address there says nothing about who
# employs its owner. Subdomains count as the provider.
PUBLIC_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "aol.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hotmail.co.uk",
        "hotmail.com",
        "hotmail.de",
        "hotmail.fr",
        "icloud.com",
        "live.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "outlook.de",
        "outlook.fr",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "web.de",
        "yahoo.co.uk",
        "yahoo.com",
        "yahoo.de",
        "yahoo.fr",
        "yandex.com",
        "yandex.ru",
        "ymail.com",
        "zoho.com",
    }
)
# Domains reserved for documentation (RFC 2606), which no organisation owns; the demo
# logins and many test users have addresses there. Subdomains count as the domain.
PLACEHOLDER_MAIL_DOMAINS: frozenset[str] = frozenset({"example.com", "example.net", "example.org"})


def legal_name_key(name: str) -> str:
    """The legal name as compared: accents and case folded, dots and apostrophes dropped
    ("S.A." is "sa"), other punctuation and symbols made spaces, spaces collapsed, and
    legal forms dropped from the end. A name that is nothing but a legal form keeps it."""
    characters = []
    for char in name:
        if char in ".'\u2019":  # dots and apostrophes join: "S.A." is "sa"
            continue
        characters.append(" " if unicodedata.category(char)[0] in "PS" else char)
    decomposed = unicodedata.normalize("NFKD", "".join(characters))
    unaccented = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    words = unaccented.casefold().split()
    while len(words) > 1:  # "Co., Ltd." is two legal forms; the first word always stays
        sizes = range(min(_LONGEST_SUFFIX, len(words) - 1), 0, -1)
        size = next((n for n in sizes if " ".join(words[-n:]) in LEGAL_FORM_SUFFIXES), 0)
        if not size:
            break
        del words[-size:]
    return " ".join(words)


def _within(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def mail_domain(email: str) -> str:
    """The corporate domain of an address; "" for none, a public provider or a placeholder."""
    local, at, domain = email.strip().rpartition("@")
    domain = domain.casefold().rstrip(".")
    if not (local and at and "." in domain):
        return ""
    if any(_within(domain, d) for d in PUBLIC_MAIL_DOMAINS | PLACEHOLDER_MAIL_DOMAINS):
        return ""
    return domain


@dataclass(frozen=True)
class Evidence:
    """What one organisation offers the check."""

    name: str
    company_key: str
    legal_name: str
    domains: frozenset[str]

    @classmethod
    def of(cls, organisation: Customer | Partner, emails: Iterable[str]) -> Evidence:
        return cls(
            name=organisation.name,
            company_key=organisation.company.strip().casefold(),
            legal_name=legal_name_key(organisation.name),
            domains=frozenset(d for d in map(mail_domain, emails) if d),
        )


@dataclass(frozen=True)
class SameCompany:
    """The check's outcome. `evidence`: what matched (a definite match when not empty);
    `doubt`: why the check could not be made with confidence (only when nothing matched)."""

    evidence: tuple[str, ...]
    doubt: str

    @property
    def matched(self) -> bool:
        return bool(self.evidence)


def customer_evidence(customer: Customer) -> Evidence:
    return Evidence.of(
        customer,
        User.objects.filter(customer=customer, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True),
    )


def partner_evidence(partner: Partner) -> Evidence:
    return partners_evidence([partner])[partner.pk]


def partners_evidence(partners: Iterable[Partner]) -> dict[int, Evidence]:
    """Each partner's evidence by its primary key, in one query for all their users."""
    partners = list(partners)
    emails: dict[int, list[str]] = defaultdict(list)
    rows = (
        User.objects.filter(partner__in=partners, is_active=True)
        .exclude(email="")
        .values_list("partner_id", "email")
    )
    for partner_id, email in rows:
        emails[partner_id].append(email)
    return {p.pk: Evidence.of(p, emails[p.pk]) for p in partners}


def _shared_domain(customer: frozenset[str], partner: frozenset[str]) -> str:
    """The shared domain, the parent of the two when one is a subdomain of the other."""
    for ours in sorted(customer):
        for theirs in sorted(partner):
            if _within(ours, theirs):
                return theirs
            if _within(theirs, ours):
                return ours
    return ""


def same_company(customer: Evidence, partner: Evidence) -> SameCompany:
    """R-VOU-7: the customer and the partner are one company when they share the
    ultimate-parent key, the legal name or a corporate mail domain."""
    evidence = []
    if customer.company_key and customer.company_key == partner.company_key:
        evidence.append(f"both are under the ultimate parent “{partner.company_key}”")
    if customer.legal_name and customer.legal_name == partner.legal_name:
        evidence.append(f"“{customer.name}” and “{partner.name}” are the same legal name")
    if domain := _shared_domain(customer.domains, partner.domains):
        evidence.append(
            "the customer's contacts and the partner's users share the corporate "
            f"mail domain {domain}"
        )
    if evidence:
        return SameCompany(evidence=tuple(evidence), doubt="")
    gaps = []
    keyless = [side.name for side in (customer, partner) if not side.company_key]
    if len(keyless) == 2:
        gaps.append(f"neither {customer.name} nor {partner.name} has an ultimate-parent key")
    elif keyless:
        gaps.append(f"{keyless[0]} has no ultimate-parent key")
    if not customer.domains:
        gaps.append(f"no contact of {customer.name} has a corporate mail domain")
    if not partner.domains:
        gaps.append(f"no user of {partner.name} has a corporate mail domain")
    doubt = ""
    if gaps:
        doubt = (
            f"The same-company check could not be made with confidence: {'; '.join(gaps)}. "
            f"Check that {partner.name} is not part of {possessive(customer.name)} company."
        )
    return SameCompany(evidence=(), doubt=doubt)


def conflict_check(*, customer: Customer, partner: Partner) -> SameCompany:
    """R-VOU-7 for one customer and one partner, reading both sides' people."""
    return same_company(customer_evidence(customer), partner_evidence(partner))
