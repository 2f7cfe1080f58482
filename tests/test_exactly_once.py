"""R-PAY-4 on PostgreSQL: 16 reviewers approving one request at the same moment end with
one payment and 15 clear refusals."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from core.choices import Role
from core.errors import StateConflict
from payments.models import Payment
from redemptions.models import PaymentRequest
from redemptions.services import request_approve, request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from vouchers.models import Voucher
from vouchers.services import voucher_claim

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 16


def test_sixteen_concurrent_approvals_pay_once(fy24: Any) -> None:
    assert connection.vendor == "postgresql"
    with time_machine.travel(date(2024, 3, 1), tick=False):
        voucher = issue_voucher(
            fy24,
            CustomerFactory(),
            user_for_role(Role.FIELD_REP),
            user_for_role(Role.PROGRAM_MANAGER),
            purchase_amount=Decimal("500000.00"),
        )
        partner_user = user_for_role(Role.PARTNER, partner=PartnerFactory())
        voucher_claim(code=voucher.code, user=partner_user)
        request = request_submit(
            voucher_id=voucher.pk,
            user=partner_user,
            kind="initial",
            sow_value=Decimal("50000.00"),
            upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
            customer_signer="C",
            customer_signed_on=date(2024, 3, 1),
            partner_signer="P",
            partner_signed_on=date(2024, 3, 1),
        )
        reviewers = [user_for_role(Role.REVIEWER) for _ in range(THREADS)]
        barrier = threading.Barrier(THREADS)
        outcomes: list[str] = []
        lock = threading.Lock()

        def approve(reviewer: Any) -> None:
            try:
                barrier.wait(timeout=30)
                request_approve(request_id=request.pk, user=reviewer)
                result = "approved"
            except StateConflict as exc:
                result = f"refused:{exc.rule}"
            except Exception as exc:  # any other failure is recorded and fails the test
                result = f"error:{type(exc).__name__}:{exc}"
            finally:
                connections.close_all()
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=approve, args=(r,)) for r in reviewers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert len(outcomes) == THREADS
    assert outcomes.count("approved") == 1, outcomes
    assert outcomes.count("refused:R-PAY-4") == THREADS - 1, outcomes
    assert Payment.objects.filter(request=request).count() == 1
    assert PaymentRequest.objects.get(pk=request.pk).payout_amount == Decimal("25000.00")
    assert Voucher.objects.get(pk=voucher.pk).paid_total == Decimal("25000.00")
