"""A program manager decides many nominations at once: approve the selected, or reject
them with one reason; a refusal (an unverified customer, R-ELIG-8) stops no other, and
each field rep hears of each decision."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from core.choices import Role
from customers.services import customer_create
from nominations.models import Nomination
from tests.factories import CustomerFactory, nominate, user_for_role
from tests.test_customer_verification import NEW_CUSTOMER

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)


def page_as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def queue(fy24: Any) -> Any:
    with time_machine.travel(DAY, tick=False):
        rep = user_for_role(Role.FIELD_REP, email="rep@microsoft.example")
        pm = user_for_role(Role.PROGRAM_MANAGER)
        ready = [nominate(fy24, CustomerFactory(name=n), rep) for n in ("Contoso", "Fabrikam")]
        waiting = nominate(fy24, customer_create(user=rep, **NEW_CUSTOMER), rep)
    mail.outbox.clear()
    return {"pm": pm, "rep": rep, "ready": ready, "waiting": waiting}


def test_approve_the_selected_and_each_refusal_is_named(queue: Any) -> None:
    ids = [n.pk for n in queue["ready"]] + [queue["waiting"].pk]
    with time_machine.travel(DAY, tick=False):
        pm = page_as(queue["pm"])
        listing = pm.get("/nominations/").content.decode()
        assert 'id="bulk-form"' in listing and 'form="bulk-form"' in listing
        answer = pm.post(
            "/nominations/decide/",
            {"ids": ids, "decision": "approve", "next": "/nominations/?status=submitted"},
            follow=True,
        )
    text = answer.content.decode()
    assert "Approved 2 nominations." in text
    assert "Woodgrove Clinics:" in text and "(R-ELIG-8)" in text
    statuses = dict(Nomination.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[n.pk] for n in queue["ready"]] == ["approved", "approved"]
    assert statuses[queue["waiting"].pk] == "submitted"
    assert answer.redirect_chain[-1][0] == "/nominations/?status=submitted"


def test_reject_the_selected_with_one_reason(queue: Any) -> None:
    ids = [n.pk for n in queue["ready"]]
    with time_machine.travel(DAY, tick=False):
        pm = page_as(queue["pm"])
        missing = pm.post("/nominations/decide/", {"ids": ids, "decision": "reject"}, follow=True)
        assert "one reason" in missing.content.decode()
        assert not Nomination.objects.filter(pk__in=ids, status="rejected").exists()
        done = pm.post(
            "/nominations/decide/",
            {"ids": ids, "decision": "reject", "reason": "Deals already closed."},
            follow=True,
        )
    assert "Rejected 2 nominations." in done.content.decode()
    rejected = Nomination.objects.filter(pk__in=ids)
    assert {(n.status, n.rejection_reason) for n in rejected} == {
        ("rejected", "Deals already closed.")
    }
    # Each field rep is mailed each decision, as one by one.
    from notifications.models import OutboundMail

    assert OutboundMail.objects.filter(kind="nomination_rejected").count() == 2


def test_only_visible_nominations_are_decided_and_others_may_not(queue: Any, fy24: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        rep_page = page_as(queue["rep"])
        refused = rep_page.post(
            "/nominations/decide/", {"ids": [queue["ready"][0].pk], "decision": "approve"}
        )
        assert refused.status_code == 404
        nothing = page_as(queue["pm"]).post(
            "/nominations/decide/", {"ids": ["x", "-1"], "decision": "approve"}, follow=True
        )
    assert "Select the nominations to decide." in nothing.content.decode()
    assert not Nomination.objects.filter(status="approved").exists()


def test_the_queue_searches_and_sorts(queue: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        pm = page_as(queue["pm"])
        found = pm.get("/nominations/", {"q": "fabrikam"}).content.decode()
        by_name = pm.get("/nominations/", {"sort": "-customer"}).content.decode()
        none = pm.get("/nominations/", {"q": "zzz"}).content.decode()
    assert "Fabrikam" in found and ">Contoso<" not in found
    assert by_name.index("Woodgrove Clinics") < by_name.index("Fabrikam") < by_name.index("Contoso")
    assert 'aria-sort="descending"' in by_name
    assert "No nomination matches “zzz”" in none
