"""Load: 20 partners submitting and 5 QTM reviewers deciding for LOAD_SECONDS
(default 120) against gunicorn on PostgreSQL, with a Celery worker on Redis sending the
mail. Afterwards: no 5xx, no payment twice (R-PAY-4), and every payment what the program
rules say for its approved request (R-RED-2, R-RED-4, R-PUB-1, R-PUB-2, R-DOC-3, R-CAP-5,
R-PAY-1), recomputed here from the rules, not with redemptions.payouts.

The summary (calls by endpoint, throughput, latency percentiles) is printed and written to
test-results/load.json (LOAD_RESULTS). LOAD_SECONDS=20 makes a quick local run."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db.models import Count, Sum

from core.models import Event
from notifications.models import OutboundMail
from payments.models import Payment
from redemptions.models import PaymentRequest
from tests.conftest import database_url
from tests.seed_portal import CURRENCIES, seed_world, sow_value_for
from tests.servers import ROOT, celery_worker, gunicorn, portal_env, private_redis, tail, wait_until
from tests.traffic import (
    CONNECTION_ERROR,
    Client,
    Recorder,
    guarded,
    signed_pdf,
    summarise,
    write_summary,
)
from vouchers.models import Voucher

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
LOAD_SECONDS = int(os.environ.get("LOAD_SECONDS", "120"))
GUNICORN_WORKERS = int(os.environ.get("LOAD_GUNICORN_WORKERS", "3"))
RESULTS = Path(os.environ.get("LOAD_RESULTS", str(ROOT / "test-results" / "load.json")))
PARTNERS, REVIEWERS, VOUCHERS_PER_PARTNER = 20, 5, 40
TODAY = date.today()  # noqa: DTZ011 - gunicorn runs on the real clock
CENT, ZERO = Decimal("0.01"), Decimal("0.00")
RATES = {currency: rate or Decimal("1") for currency, rate in CURRENCIES}


def results(response: requests.Response | None) -> list[dict[str, Any]]:
    if response is None or response.status_code != 200:
        return []
    return list(response.json()["results"])


def partner_traffic(
    client: Client, partner: dict[str, Any], *, stop: threading.Event, seed: int
) -> None:
    """Answers questions first, then sends the POE of approved SOWs, corrects a rejected
    request once (R-DOC-2), else submits the next SOW; sometimes clicks twice."""
    rng = random.Random(seed)
    fresh = list(partner["claimed"])
    sow_values = {code: sow_value_for(i) for i, code in enumerate(partner["claimed"])}
    finals: set[str] = set()
    corrected: set[int] = set()
    turn = 0
    while not stop.is_set():
        turn += 1
        asked = results(
            client.call(
                "GET", "/api/v1/requests/?status=info_requested&limit=20", label="list_requests"
            )
        )
        if asked:
            amend(client, asked[0], rng=rng)
            continue
        approved = results(
            client.call(
                "GET",
                "/api/v1/requests/?status=approved&kind=initial&limit=100",
                label="list_requests",
            )
        )
        ready = [r["voucher"] for r in approved if r["voucher"] not in finals]
        if ready:
            response = client.submit(code=ready[0], kind="final", day=TODAY)
            if response is not None and response.status_code in (201, 409):
                finals.add(ready[0])
            continue
        if turn % 3 == 0 and correct_rejected(client, corrected=corrected, sow_values=sow_values):
            continue
        if fresh:
            code = fresh.pop(0)
            client.submit(code=code, kind="initial", day=TODAY, sow_value=sow_values[code])
            if rng.random() < 0.05:  # a double click: the second answers 409 (R-DOC-2)
                client.submit(code=code, kind="initial", day=TODAY, sow_value=sow_values[code])
            continue
        client.call("GET", "/api/v1/payments/?limit=20", label="list_payments")
        stop.wait(0.5)


def amend(client: Client, request: dict[str, Any], *, rng: random.Random) -> None:
    """The partner answers the reviewer: a corrected document, or a corrected field."""
    path = f"/api/v1/requests/{request['id']}/amend/"
    if rng.random() < 0.5:
        pdf = signed_pdf(code=request["voucher"], kind=request["kind"])
        files = {"document": ("corrected.pdf", pdf, "application/pdf")}
        client.call("POST", path, label="amend", files=files)
    else:
        client.call("POST", path, label="amend", data={"customer_signer": "Casey Q. Customer"})


def correct_rejected(client: Client, *, corrected: set[int], sow_values: dict[str, str]) -> bool:
    rejected = results(
        client.call("GET", "/api/v1/requests/?status=rejected&limit=100", label="list_requests")
    )
    for request in rejected:
        if request["attempt"] == 1 and request["id"] not in corrected:
            corrected.add(request["id"])
            code, kind = request["voucher"], request["kind"]
            sow = sow_values[code] if kind == "initial" else None
            client.submit(code=code, kind=kind, day=TODAY, sow_value=sow)
            return True
    return False


def reviewer_traffic(client: Client, *, stop: threading.Event, seed: int) -> None:
    """Takes one of the oldest requests (five reviewers on the same few: races) and
    decides it; sometimes without taking it, sometimes approving twice."""
    rng = random.Random(seed)
    while not stop.is_set():
        queue = results(
            client.call(
                "GET", "/api/v1/review-queue/?status=submitted&limit=10", label="review_queue"
            )
        )
        if not queue:
            stop.wait(0.3)
            continue
        request = rng.choice(queue[:5])
        base = f"/api/v1/requests/{request['id']}"
        if rng.random() < 0.85:
            taken = client.call("POST", f"{base}/take/", label="take")
            if taken is None or taken.status_code != 200:
                continue
        roll = rng.random()
        if roll < (0.7 if request["kind"] == "initial" else 0.85):
            response = client.call("POST", f"{base}/approve/", label="approve")
            if response is not None and response.status_code == 200 and rng.random() < 0.1:
                client.call("POST", f"{base}/approve/", label="approve")  # double click: 409
        elif roll < 0.9:
            client.call(
                "POST", f"{base}/request-info/", label="request_info", json={"question": "Tenant?"}
            )
        else:
            client.call(
                "POST", f"{base}/reject/", label="reject", json={"reason": "Not signed by both."}
            )


def rules_payout(*, scheme: str, kind: str, value: Decimal, sow: Decimal, paid: Decimal) -> Decimal:
    """What an approval pays by the program rules, independently of redemptions.payouts."""
    total = min(value, sow).quantize(CENT, rounding=ROUND_DOWN)  # R-DOC-3
    if scheme == "public_sector":
        return ZERO if kind == "initial" else total  # R-PUB-1, R-PUB-2
    if kind == "initial":
        return (total / 2).quantize(CENT, rounding=ROUND_DOWN)  # R-RED-2
    return total - paid  # R-RED-4: the rest


def expected_payouts() -> dict[int, Decimal]:
    """Approved request id -> what it must pay."""
    approved = list(
        PaymentRequest.objects.filter(status="approved")
        .select_related("voucher")
        .order_by("voucher_id")
    )
    by_voucher: dict[int, dict[str, PaymentRequest]] = {}
    for request in approved:
        kinds = by_voucher.setdefault(request.voucher_id, {})
        assert request.kind not in kinds, f"two approved {request.kind} on one voucher"
        kinds[request.kind] = request
    expected: dict[int, Decimal] = {}
    for kinds in by_voucher.values():
        initial = kinds["initial"]  # a POE is only accepted after the SOW is approved
        assert initial.sow_value is not None
        voucher, sow = initial.voucher, initial.sow_value
        first = rules_payout(
            scheme=voucher.scheme, kind="initial", value=voucher.value, sow=sow, paid=ZERO
        )
        expected[initial.pk] = first
        if "final" in kinds:
            expected[kinds["final"].pk] = rules_payout(
                scheme=voucher.scheme, kind="final", value=voucher.value, sow=sow, paid=first
            )
    return expected


def check_payments() -> dict[str, Any]:
    expected = expected_payouts()
    payments = {p.request_id: p for p in Payment.objects.select_related("partner")}
    assert not Payment.objects.values("request").annotate(n=Count("id")).filter(n__gt=1).exists()
    per_kind = Payment.objects.values("voucher", "request__kind").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in per_kind)  # one payment per voucher and kind
    assert set(payments) == {pk for pk, amount in expected.items() if amount > 0}
    for request_id, amount in expected.items():
        assert PaymentRequest.objects.get(pk=request_id).payout_amount == amount
        payment = payments.get(request_id)
        if payment is None:
            continue
        rate = RATES[payment.partner.currency]
        assert (payment.amount_usd, payment.currency, payment.fx_rate) == (
            amount,
            payment.partner.currency,
            rate,
        )
        assert payment.amount_local == (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    for voucher in Voucher.objects.filter(payments__isnull=False).distinct():
        paid = voucher.payments.aggregate(s=Sum("amount_usd"))["s"]
        assert voucher.paid_total == paid <= voucher.value  # R-CAP-5
    total = Payment.objects.aggregate(s=Sum("amount_usd"))["s"] or ZERO
    assert total == sum(expected.values(), ZERO)
    return {
        "payments": len(payments),
        "payments_total_usd": str(total),
        "rules_total_usd": str(sum(expected.values(), ZERO)),
        "approved_requests": len(expected),
    }


def test_twenty_partners_five_reviewers(tmp_path: Path) -> None:
    world = seed_world(
        partners=PARTNERS, claimed_per_partner=VOUCHERS_PER_PARTNER, reviewers=REVIEWERS
    )
    recorder = Recorder()
    stop = threading.Event()
    logs = tmp_path / "logs"
    logs.mkdir()
    with private_redis() as redis:
        env = portal_env(
            database_url=database_url(), folder=tmp_path / "portal", redis_url=redis.url()
        )
        with (
            gunicorn(env, log=logs / "gunicorn.log", workers=GUNICORN_WORKERS) as base_url,
            celery_worker(env, log=logs / "worker.log"),
        ):
            errors: list[BaseException] = []
            threads = [
                threading.Thread(
                    target=guarded(partner_traffic, errors),
                    args=(Client(base_url=base_url, token=p["token"], recorder=recorder), p),
                    kwargs={"stop": stop, "seed": n},
                )
                for n, p in enumerate(world["partners"])
            ] + [
                threading.Thread(
                    target=guarded(reviewer_traffic, errors),
                    args=(Client(base_url=base_url, token=token, recorder=recorder),),
                    kwargs={"stop": stop, "seed": 100 + n},
                )
                for n, token in enumerate(world["reviewers"])
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            stop.wait(LOAD_SECONDS)
            stop.set()
            for thread in threads:
                thread.join(timeout=90)
            elapsed = time.monotonic() - started
            assert not any(t.is_alive() for t in threads)
            assert not errors, errors[:3]  # a traffic thread that died sent nothing more
            # Every decision mails the partner once (R-NOT-2); the worker catches up.
            sent = wait_until(
                lambda: not OutboundMail.objects.exclude(status="sent").exists(), seconds=90
            )
            assert sent, (
                OutboundMail.objects.values("status").annotate(n=Count("id")),
                tail(logs / "worker.log"),
            )

    calls = recorder.snapshot()
    summary = summarise(calls, seconds=elapsed)
    summary["setup"] = {
        "partners": PARTNERS,
        "reviewers": REVIEWERS,
        "gunicorn_workers": GUNICORN_WORKERS,
        "cpus": os.cpu_count(),
        "load_seconds": LOAD_SECONDS,
    }
    summary["requests_by_status"] = dict(
        PaymentRequest.objects.values_list("status").annotate(n=Count("id"))
    )
    summary["check"] = check_payments()
    write_summary(summary, RESULTS)
    print("\n" + json.dumps(summary, indent=2))

    server_errors = [c for c in calls if c.status >= 500 or c.status == CONNECTION_ERROR]
    assert not server_errors, (server_errors[:5], tail(logs / "gunicorn.log"))
    statuses = Counter(c.status for c in calls)
    assert statuses[201] > PARTNERS and summary["check"]["payments"] > 0, statuses
    decided = Event.objects.filter(
        subject="request", action__in=["approved", "rejected", "info_requested"]
    ).count()
    mails = OutboundMail.objects.filter(
        kind__in=["request_approved", "request_rejected", "request_info_requested"]
    ).count()
    assert decided == mails  # one mail per decision, none twice
    # QTM hears of each new request once, and of each answer once.
    submitted = OutboundMail.objects.filter(kind="request_submitted").count()
    assert submitted == PaymentRequest.objects.count()
    answered = Event.objects.filter(subject="request", action="amended").count()
    assert OutboundMail.objects.filter(kind="request_amended").count() == answered
    # The customer hears once per voucher that its SOW is approved (api.md).
    approved_sows = PaymentRequest.objects.filter(kind="initial", status="approved").count()
    assert OutboundMail.objects.filter(kind="sow_approved").count() == approved_sows
