"""Who may use which route: the expected-outcome table checked by test_authz_matrix.py.

One row per URL route name (API routes carry the `api:` namespace), mapping each HTTP
method the route serves to the roles allowed to use it. A role written `own(...)` reaches
only its own tenant's object: the same role from another tenant gets 404, exactly like a
missing object (api.md, Conventions). Everyone not listed is refused: 401 (anonymous) or
403 in the API, a redirect to /login/ (anonymous) or 404 on pages (core/pages.py).

A new route without a row here fails the matrix test, so nothing ships unchecked.
Rows marked `# BUG:` hold the right rule while the application breaks it; BUGS below names
the failing cases and what they answer instead (they run as strict xfails: a fix turns
them into failures until the entry is removed).
"""

from __future__ import annotations

from collections.abc import Iterable

ANON = "anonymous"
PM = "program_manager"
REP = "field_rep"
REV = "reviewer"
CUST = "customer"
PART = "partner"

ROLES = frozenset({PM, REP, REV, CUST, PART})
EVERYONE = ROLES | {ANON}
STAFF = frozenset({PM, REV})
# Roles that belong to a tenant (a customer organisation, a partner, a field rep's book).
TENANT_ROLES = (REP, CUST, PART)

OWN = ":own"
OTHER = "@B"  # an actor name suffix: the same role from another tenant (tenant B)


def own(*roles: str) -> set[str]:
    """Allowed on their own tenant's object only; another tenant's answers 404."""
    return {role + OWN for role in roles}


def row(**methods: Iterable[str]) -> dict[str, frozenset[str]]:
    return {method: frozenset(roles) for method, roles in methods.items()}


EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    # -- pages --------------------------------------------------------------------------------
    "home": row(GET=ROLES),
    "healthz": row(GET=EVERYONE),
    "login": row(GET=EVERYONE, POST=EVERYONE),
    "logout": row(POST=EVERYONE),
    # Whether the session still signs in, and a fresh CSRF token: anyone may ask.
    "session-state": row(GET=EVERYONE),
    "signed-in-again": row(GET=ROLES),
    # Everyone's own API tokens. A token is its user's alone: the world's belongs to tenant
    # A's partner user, so every other user, whatever the role, gets 404 on it.
    "token-list": row(GET=ROLES),
    "token-revoke-all": row(POST=ROLES),
    "token-revoke": row(POST=own(PART)),
    "mail-list": row(GET={PM}),
    "mail-detail": row(GET={PM}),
    "mail-resend": row(POST={PM}),
    "program-detail": row(GET={PM}),  # needs programs:write: the raw program data
    "nomination-list": row(GET={PM, REP, REV}),
    "nominations-decide": row(POST={PM}),
    "nomination-new": row(GET={REP}, POST={REP}),
    "nomination-check": row(POST={REP}),
    "nomination-detail": row(GET={PM, REV, *own(REP)}),  # a field rep sees own nominations
    # Only the nominating rep edits or withdraws, while it awaits approval (R-ELIG-9); the
    # world's nomination is issued, so the edit page sends its rep back to the nomination.
    "nomination-edit": row(GET=own(REP), POST=own(REP)),
    "nomination-withdraw": row(POST=own(REP)),
    "nomination-approve": row(POST={PM}),
    "nomination-reject": row(POST={PM}),
    "nomination-close": row(GET={PM}, POST={PM}),
    "nomination-close-preview": row(POST={PM}),
    "request-submit": row(POST=own(PART)),
    "payout-preview": row(POST=own(PART)),
    "request-detail": row(GET={PM, REV, *own(REP, CUST, PART)}),
    "request-amend": row(POST=own(PART)),
    # The review screens need requests:review, which program managers do not hold.
    "review-queue": row(GET={REV}),
    "review-history": row(GET={REV}),
    "review-detail": row(GET={REV}),
    "review-document": row(GET={REV}),
    "review-decide": row(POST={REV}),
    "payment-list": row(GET={PM, REV, PART}),
    "batch-create": row(POST={PM}),
    "batch-download": row(GET={PM}),
    "batch-confirm": row(GET={PM}, POST={PM}),
    "dispute-list": row(GET={PM, REV, PART}),
    "dispute-resolve": row(POST={PM, REV}),
    "dispute-open": row(POST=own(PART)),
    "dashboard": row(GET={PM}),
    "dashboard-csv": row(GET={PM}),
    "export": row(GET={PM}),
    "rep-board": row(GET={REP}),
    "import-list": row(GET={PM, REP}, POST={PM, REP}),
    "import-sample": row(GET={PM, REP}),
    # A field rep adds a customer not yet in the portal (unverified); a program manager
    # verifies it (R-ELIG-8).
    "customer-new": row(GET={PM, REP}, POST={PM, REP}),
    "customer-verify": row(POST={PM}),
    # An import job is its uploader's alone: a program manager gets 404 on a rep's job too.
    "import-detail": row(GET=own(REP)),
    "import-commit": row(POST=own(REP)),
    "import-progress": row(GET=own(REP)),
    "import-errors": row(GET=own(REP)),
    "voucher-list": row(GET=ROLES),
    "voucher-claim": row(GET={PART}, POST={PART}),
    "partner-directory": row(GET={CUST}),
    "extension-list": row(GET={REV}),
    "extension-decide": row(POST={REV}),
    "voucher-detail": row(GET={PM, REV, *own(REP, CUST, PART)}),
    "voucher-forward": row(POST=own(CUST)),
    "voucher-decline": row(POST=own(PART)),
    "voucher-extension": row(POST=own(CUST)),
    # -- API ----------------------------------------------------------------------------------
    "api:schema": row(GET=EVERYONE),  # the published contract
    "api:docs": row(GET=EVERYONE),
    # DELETE revokes the calling token; a session (the matrix's actors) has none: 400.
    "api:token": row(POST=EVERYONE, DELETE=ROLES),
    "api:user-list": row(GET={PM}, POST={PM}),
    "api:user-me": row(GET=ROLES),
    "api:user-detail": row(GET={PM}),  # even one's own row needs users:read
    "api:program-list": row(GET=ROLES),
    "api:program-detail": row(GET=ROLES),
    "api:customer-list": row(GET={PM, REP, REV, CUST}, POST={PM, REP}),
    "api:customer-verify": row(POST={PM}),
    "api:customer-detail": row(GET={PM, REP, REV, *own(CUST)}, PUT={PM}, PATCH={PM}),
    "api:partner-list": row(GET=ROLES, POST={PM}),
    # Customers read every FastTrack Ready partner (the directory); a partner only itself.
    "api:partner-detail": row(GET={PM, REP, REV, CUST, *own(PART)}, PUT={PM}, PATCH={PM}),
    # A partner always gets its own statement (?partner= is for staff), so no tenant case.
    "api:statement": row(GET={PM, REV, PART}),
    "api:fx-rate-list": row(GET={PM, REV, PART}, POST={PM}),
    "api:fx-rate-detail": row(GET={PM, REV, PART}),
    "api:payment-list": row(GET={PM, REV, PART}),
    "api:payment-detail": row(GET={PM, REV, *own(PART)}),
    "api:payment-batch-list": row(GET={PM}, POST={PM}),
    "api:payment-batch-detail": row(GET={PM}),
    "api:payment-batch-confirm": row(POST={PM}),
    "api:payment-batch-csv": row(GET={PM}),
    # POST names the request in its body (the only route that does).
    "api:dispute-list": row(GET={PM, REV, PART}, POST=own(PART)),
    "api:dispute-detail": row(GET={PM, REV, *own(PART)}),
    "api:dispute-resolve": row(POST={PM, REV}),
    "api:nomination-list": row(GET={PM, REP, REV}, POST={REP}),
    "api:nomination-check": row(POST={REP}),
    "api:nomination-detail": row(GET={PM, REV, *own(REP)}, PATCH=own(REP)),
    "api:nomination-withdraw": row(POST=own(REP)),
    "api:nomination-approve": row(POST={PM}),
    "api:nomination-close-deal": row(POST={PM}),
    "api:nomination-reject": row(POST={PM}),
    "api:voucher-pdf": row(GET={PM, *own(REP, CUST)}),
    "api:voucher-template": row(GET=own(PART)),
    "api:voucher-list": row(GET=ROLES),
    "api:voucher-detail": row(GET={PM, REV, *own(REP, CUST, PART)}),
    "api:voucher-combined-cap": row(GET={PM, REV, *own(REP, CUST, PART)}),
    # The code is the credential (api.md: "the code alone is enough"): any partner may try
    # it, and another partner gets 409 already-claimed, not 404.
    "api:voucher-claim": row(POST={PART}),
    "api:voucher-decline": row(POST=own(PART)),
    "api:voucher-extension": row(POST=own(CUST)),
    "api:voucher-forward": row(POST=own(CUST)),
    "api:voucher-submit-request": row(POST=own(PART)),
    "api:extension-list": row(GET={REV}),
    "api:extension-detail": row(GET={REV}),
    "api:extension-decide": row(POST={REV}),
    "api:request-document": row(GET={PM, REV, *own(REP, CUST, PART)}),
    "api:request-list": row(GET=ROLES),
    "api:request-detail": row(GET={PM, REV, *own(REP, CUST, PART)}),
    "api:request-amend": row(POST=own(PART)),
    "api:request-approve": row(POST={REV}),
    "api:request-reject": row(POST={REV}),
    "api:request-release": row(POST={REV}),
    "api:request-request-info": row(POST={REV}),
    "api:request-take": row(POST={REV}),
    "api:review-queue-list": row(GET={REV}),
}

# Known wrong outcomes: test id (route METHOD actor, "+ missing object" for the sweep over
# nonexistent ids) -> what the application answers instead of the rule above.
BUGS: dict[str, str] = {}


def allowed(route: str, method: str) -> frozenset[str]:
    """Every role (and "anonymous") that may use the route with this method."""
    return frozenset(r.removesuffix(OWN) for r in EXPECTED[route][method])


def own_only(route: str, method: str) -> frozenset[str]:
    """The roles limited to their own tenant's object on this route and method."""
    return frozenset(r.removesuffix(OWN) for r in EXPECTED[route][method] if r.endswith(OWN))


def tenant_scoped(route: str) -> bool:
    return any(own_only(route, method) for method in EXPECTED[route])
