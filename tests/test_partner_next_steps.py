"""The partner knows what to do next: questions and rejections on the home page with their
deadline, an answer box, the corrected request from the rejection (R-DOC-2), and QTM
mailed of each new or answered request (R-REV-1)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.choices import Role
from core.models import Event
from core.words import date_text
from notifications.models import OutboundMail
from redemptions.models import PaymentRequest
from redemptions.services import request_ask, request_reject, request_submit
from tests.factories import user_for_role
from tests.signing import signed_template
from tests.test_redemption_pages import DAY, as_user, submit_sow, world

pytestmark = [pytest.mark.django_db]
__all__ = ["world"]  # the fixture, shared with the page tests


def home_tasks(client: Any) -> list[str]:
    """The home page's task titles, in the order shown."""
    page = client.get("/").content.decode()
    return re.findall(r'<h3 class="task__title">(?:<a href="[^"]*">)?([^<]+)<', page)


def test_a_question_is_flagged_at_home_and_answered_in_words(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        sow = submit_sow(world)
        request_ask(request_id=sow.pk, user=world["reviewer"], question="Which tenant?")
        partner = as_user(world["partner"])
        tasks = home_tasks(partner)
        assert tasks[0] == "Answer the reviewer: Contoso"
        page = partner.get("/").content.decode()
        expires = world["voucher"].expires_on
        assert (
            f"Due <strong>{expires:%-d %b %Y}</strong> · {(expires - DAY).days} days left" in page
        )
        assert "Which tenant?" in page and f"/requests/{sow.pk}/#amend" in page

        detail = partner.get(f"/requests/{sow.pk}/").content.decode()
        assert "Answer the reviewer" in detail and 'name="answer"' in detail
        # An empty answer is a form error, not a silent no-op.
        refused = partner.post(f"/requests/{sow.pk}/amend/", {"answer": "  "})
        assert refused.status_code == 400 and "This field is required." in refused.content.decode()

        OutboundMail.objects.all().delete()
        sent = partner.post(f"/requests/{sow.pk}/amend/", {"answer": "Contoso's EU tenant."})
        assert sent.status_code == 302
    sow.refresh_from_db()
    assert sow.status == "submitted" and sow.answer == "Contoso's EU tenant."
    event = Event.objects.filter(subject="request", subject_id=sow.pk).latest("pk")
    assert (event.action, event.reason) == ("amended", "Contoso's EU tenant.")
    # The reviewer who asked hears of the answer, with the one link to the review screen.
    mail = OutboundMail.objects.get(kind="request_amended")
    assert mail.to == [world["reviewer"].email]
    assert mail.subject == f"Answered: Initial payment request (SOW) for voucher {sow.voucher.code}"
    assert "The question: Which tenant?" in mail.body_text
    assert "The answer: Contoso's EU tenant." in mail.body_text
    assert f"/review/{sow.pk}/" in mail.body_text
    review = as_user(world["reviewer"]).get(f"/review/{sow.pk}/").content.decode()
    assert "The partner answered:" in review and "Contoso&#x27;s EU tenant." in review
    with time_machine.travel(DAY, tick=False):
        assert "Answer the reviewer: Contoso" not in home_tasks(as_user(world["partner"]))


def test_the_api_takes_an_answer_alone_and_refuses_nothing(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        sow = submit_sow(world)
        request_ask(request_id=sow.pk, user=world["reviewer"], question="Which tenant?")
        api = APIClient()
        api.force_authenticate(world["partner"])
        empty = api.post(f"/api/v1/requests/{sow.pk}/amend/", {}, format="multipart")
        assert empty.status_code == 400
        assert (empty.json()["rule"], empty.json()["code"]) == ("R-DOC-2", "nothing_changed")
        answered = api.post(
            f"/api/v1/requests/{sow.pk}/amend/", {"answer": "The EU one."}, format="multipart"
        )
    assert answered.status_code == 200, answered.content
    assert (answered.json()["status"], answered.json()["answer"]) == ("submitted", "The EU one.")


def test_a_rejection_leads_to_the_one_correction_then_no_further(world: Any) -> None:
    voucher = world["voucher"]
    with time_machine.travel(DAY, tick=False):
        first = submit_sow(world)
        request_reject(request_id=first.pk, user=world["reviewer"], reason="Unsigned page 2.")
        partner = as_user(world["partner"])
        assert home_tasks(partner)[0] == "Correct the rejected SOW: Contoso"
        assert "Submit the signed SOW: Contoso" not in home_tasks(partner)
        detail = partner.get(f"/requests/{first.pk}/").content.decode()
        assert "Submit the corrected SOW" in detail
        assert f'href="/vouchers/{voucher.code}/#redeem"' in detail
        voucher_page = partner.get(f"/vouchers/{voucher.code}/").content.decode()
        assert "Submit the corrected SOW (initial payment request); one correction" in voucher_page
        # The customer reads the same page without an offer to submit anything.
        assert (
            "Submit the corrected"
            not in as_user(world["customer"]).get(f"/requests/{first.pk}/").content.decode()
        )

        second = submit_sow(world)
        assert second.attempt == 2
        detail = partner.get(f"/requests/{first.pk}/").content.decode()
        assert f'A corrected SOW was submitted: <a href="/requests/{second.pk}/">' in detail
        assert not any(t.startswith("Correct the rejected") for t in home_tasks(partner))

        request_reject(request_id=second.pk, user=world["reviewer"], reason="Still unsigned.")
        detail = partner.get(f"/requests/{second.pk}/").content.decode()
        assert "This was the one correction allowed" in detail
        assert "Submit the corrected SOW" not in detail
        voucher_page = partner.get(f"/vouchers/{voucher.code}/").content.decode()
        assert "The corrected SOW was rejected too; no further SOW (R-DOC-2)" in voucher_page
        assert 'name="document"' not in voucher_page
        assert not any("SOW" in t for t in home_tasks(partner))


def test_qtm_is_mailed_each_new_request_by_its_review_target(world: Any) -> None:
    away = user_for_role(Role.REVIEWER, is_active=False)
    with time_machine.travel(DAY, tick=False):
        sow = submit_sow(world)
    mail = OutboundMail.objects.get(kind="request_submitted")
    assert world["reviewer"].email in mail.to and away.email not in mail.to
    assert world["partner"].email not in mail.to
    assert mail.subject == (
        f"To review by {date_text(sow.due_by)}: Initial payment request (SOW) "
        f"for voucher {sow.voucher.code}"
    )
    assert "SOW value: $30,000.00" in mail.body_text
    assert f"Review target: {sow.due_by:%-d %B %Y}" in mail.body_text
    assert f"/review/{sow.pk}/" in mail.body_text and "/review/" in mail.body_html


def test_the_partner_home_puts_the_nearest_deadline_first(world: Any, fy24: Any) -> None:
    from tests.factories import CustomerFactory, issue_voucher
    from vouchers.services import voucher_claim

    with time_machine.travel(DAY, tick=False):
        later = issue_voucher(
            fy24,
            CustomerFactory(name="Fabrikam"),
            user_for_role(Role.FIELD_REP),
            world["pm"],
        )
        later.expires_on = world["voucher"].expires_on.replace(year=2025)
        later.save(update_fields=["expires_on"])
        voucher_claim(code=later.code, user=world["partner"])
        sow = submit_sow(world)
        request_ask(request_id=sow.pk, user=world["reviewer"], question="Which tenant?")
        tasks = home_tasks(as_user(world["partner"]))
    # Contoso's question is due at its voucher's expiry, before Fabrikam's SOW.
    assert tasks.index("Answer the reviewer: Contoso") < tasks.index(
        "Submit the signed SOW: Fabrikam"
    )
    assert tasks[-1] == "Claim a voucher"


def test_the_corrected_request_is_a_full_submission(world: Any) -> None:
    """The form on the voucher page makes the correction; its document is checked as any."""
    with time_machine.travel(DAY, tick=False):
        first = submit_sow(world)
        request_reject(request_id=first.pk, user=world["reviewer"], reason="Wrong value.")
        corrected = request_submit(
            voucher_id=world["voucher"].pk,
            user=world["partner"],
            kind="initial",
            sow_value=Decimal("25000"),
            upload=SimpleUploadedFile(
                "s.pdf", signed_template(voucher=world["voucher"], kind="sow")
            ),
            customer_signer="Casey",
            customer_signed_on=date(2024, 3, 1),
            partner_signer="Pat",
            partner_signed_on=date(2024, 3, 1),
        )
    assert (corrected.attempt, corrected.status) == (2, PaymentRequest.Status.SUBMITTED)
    assert OutboundMail.objects.filter(kind="request_submitted").count() == 2
    second = OutboundMail.objects.filter(kind="request_submitted").latest("pk")
    assert (
        "submitted the signed SOW (initial payment request), its one correction after a "
        "rejection," in " ".join(second.body_text.split())
    )
