"""With the broker (Redis) or the cache down, a request that committed its data still
answers 2xx; the work it could not enqueue waits for a beat sweep, which does it once.
Unit level (any database): publishing and the cache fail on purpose here.
tests/test_faults.py stops a real Redis under gunicorn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from celery import Task
from django.core import mail
from django.core.cache import cache
from django.core.files.base import ContentFile
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from config.celery_app import app
from core.choices import Role
from core.tasks import enqueue
from imports.models import ImportJob
from imports.services import import_preview, import_queue
from imports.tasks import commit_import, resume_queued_imports
from nominations.models import Nomination
from notifications.models import OutboundMail
from notifications.tasks import dispatch_mail, dispatch_pending_mail
from payments.models import Payment
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.factories import submitted_sow as make_submitted_sow
from vouchers.models import Voucher
from vouchers.tasks import send_missing_voucher_mail, send_voucher_issued

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour)  # noqa: DTZ001 - time_machine: local


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def publishing() -> Iterator[None]:
    """Tasks are published to a broker, not run inline as elsewhere in the tests."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


class Broker:
    """Publishing fails as kombu fails with Redis stopped, until `back()`: then tasks run
    inline again (eager, as in the rest of the tests)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tried: list[str] = []
        self._monkeypatch = monkeypatch
        tried = self.tried

        def refuse(task: Any, *args: Any, **kwargs: Any) -> None:
            tried.append(task.name)
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        monkeypatch.setattr(Task, "apply_async", refuse)

    def back(self) -> None:
        self._monkeypatch.undo()
        app.conf.task_always_eager = True


@pytest.fixture
def broker_down(publishing: None, monkeypatch: pytest.MonkeyPatch) -> Broker:
    return Broker(monkeypatch)


def test_enqueue_logs_and_returns_false_when_the_broker_is_down(
    broker_down: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="core.tasks"):
        assert enqueue(dispatch_mail, 42) is False
    assert broker_down.tried == ["notifications.tasks.dispatch_mail"]
    assert "dispatch_mail(42,) not enqueued, left to its sweep" in caplog.text


def test_enqueue_publishes_with_a_short_retry_policy(
    publishing: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(Task, "apply_async", lambda self, **kwargs: sent.append(kwargs))
    assert enqueue(dispatch_mail, 7) is True
    assert sent[0]["args"] == (7,) and sent[0]["retry"] is True
    assert sent[0]["retry_policy"]["max_retries"] <= 3


def test_eager_mode_runs_inline_and_lets_task_errors_through() -> None:
    assert app.conf.task_always_eager
    with pytest.raises(Voucher.DoesNotExist):
        enqueue(send_voucher_issued, 999_999)


def test_claim_answers_200_and_the_mail_waits_for_the_sweep(
    fy24: Any, broker_down: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(at(DAY), tick=False):
        customer = CustomerFactory()
        user_for_role(Role.CUSTOMER, customer=customer, email="it@contoso.example")
        voucher = issue_voucher(
            fy24, customer, user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
        )
        partner = client_for(user_for_role(Role.PARTNER, partner=PartnerFactory()))
        with django_capture_on_commit_callbacks(execute=True):
            response = partner.post(f"/api/v1/vouchers/{voucher.code}/claim/")
    assert response.status_code == 200
    assert "notifications.tasks.dispatch_mail" in broker_down.tried
    claimed = OutboundMail.objects.get(kind="voucher_claimed")
    assert claimed.status == OutboundMail.Status.PENDING and not mail.outbox

    broker_down.back()
    with time_machine.travel(at(DAY, 11), tick=False):
        assert dispatch_pending_mail() >= 1
        assert dispatch_pending_mail() == 0  # safe to run twice
    claimed.refresh_from_db()
    assert claimed.status == OutboundMail.Status.SENT
    assert [m.subject for m in mail.outbox].count(claimed.subject) == 1


def test_approval_answers_200_with_its_payment_while_the_broker_is_down(
    fy24: Any, broker_down: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(at(DAY), tick=False):
        _, request, _ = make_submitted_sow(fy24, day=DAY, sow_value="20000.00")
        reviewer = client_for(user_for_role(Role.REVIEWER))
        with django_capture_on_commit_callbacks(execute=True):
            response = reviewer.post(f"/api/v1/requests/{request.pk}/approve/")
    assert response.status_code == 200, response.json()
    assert Payment.objects.get(request=request).amount_usd == Decimal("10000.00")  # R-RED-2
    assert OutboundMail.objects.get(kind="request_approved").status == "pending"


def test_voucher_mail_is_sent_by_the_sweep_after_an_outage_at_issue(
    fy24: Any, broker_down: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(at(DAY), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            voucher = issue_voucher(
                fy24,
                CustomerFactory(),
                user_for_role(Role.FIELD_REP),
                user_for_role(Role.PROGRAM_MANAGER),
            )
        assert "vouchers.tasks.send_voucher_issued" in broker_down.tried
        assert not OutboundMail.objects.filter(kind="voucher_issued").exists()

    broker_down.back()
    with time_machine.travel(at(DAY, 10) + timedelta(minutes=1), tick=False):
        assert send_missing_voucher_mail() == 0  # not before two minutes: its task may be late
    with (
        time_machine.travel(at(DAY, 11), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send_missing_voucher_mail() == 1
        assert send_missing_voucher_mail() == 0  # mailed once (dedupe key)
    issued = OutboundMail.objects.get(kind="voucher_issued")
    assert voucher.code in issued.subject and issued.status == OutboundMail.Status.SENT
    with time_machine.travel(at(DAY + timedelta(days=8)), tick=False):
        assert send_missing_voucher_mail() == 0


def test_bulk_vouchers_without_an_issue_event_are_not_mailed_by_the_sweep(fy24: Any) -> None:
    from tests.factories import bulk_vouchers

    with time_machine.travel(at(DAY), tick=False):
        bulk_vouchers(fy24, 3, issued_on=DAY, expires_on=DAY + timedelta(days=180))
    with time_machine.travel(at(DAY, 11), tick=False):
        assert send_missing_voucher_mail() == 0


def test_an_import_queued_while_the_broker_is_down_is_resumed(
    fy24: Any, broker_down: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(at(DAY), tick=False):
        rep, customer = user_for_role(Role.FIELD_REP), CustomerFactory()
        text = (
            "customer_tpid,offer,workloads,deal_value,expected_close_date\n"
            f"{customer.tpid},DEPLOY,M365_E3,200000,2024-05-20\n"
        )
        job = import_preview(
            user=rep, program=fy24, upload=ContentFile(text.encode(), name="n.csv")
        )
        with django_capture_on_commit_callbacks(execute=True):
            import_queue(job_id=job.pk, user=rep)
    assert commit_import.name in broker_down.tried
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED

    broker_down.back()
    with time_machine.travel(at(DAY, 11), tick=False):
        assert resume_queued_imports() == 1
        assert resume_queued_imports() == 0
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
    assert Nomination.objects.filter(customer=customer).count() == 1


def test_rate_limit_fails_open_when_the_cache_is_down(
    fy24: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    with time_machine.travel(at(DAY), tick=False):
        voucher = issue_voucher(
            fy24,
            CustomerFactory(),
            user_for_role(Role.FIELD_REP),
            user_for_role(Role.PROGRAM_MANAGER),
        )
        partner = client_for(user_for_role(Role.PARTNER, partner=PartnerFactory()))
        monkeypatch.setattr(cache, "add", down)
        with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
            response = partner.post(f"/api/v1/vouchers/{voucher.code}/claim/")
    assert response.status_code == 200
    assert "Rate limit claim not applied, cache unavailable" in caplog.text


def test_login_throttle_fails_open_when_the_cache_is_down(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from core.ratelimit import FailOpenScopedRateThrottle

    user = user_for_role(Role.REVIEWER, username="qtm-down")
    user.set_password("pass-word-123")
    user.save()

    def down(*args: Any, **kwargs: Any) -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(FailOpenScopedRateThrottle.cache, "get", down)
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "qtm-down", "password": "pass-word-123"}
        )
    assert response.status_code == 200 and response.json()["token"]
    assert "Throttle login not applied" in caplog.text


def test_redis_cache_fails_open_when_redis_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from core.cache import FailOpenRedisCache
    from tests.servers import free_port

    down = FailOpenRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
    )
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        assert down.get("board", "computed again") == "computed again"
        assert down.get_many(["a", "b"]) == {} and down.has_key("a") is False
        assert down.set("board", {"n": 1}, 60) is None
        assert down.add("rl:claim", 0) is False and down.delete("board") is False
        assert down.set_many({"a": 1}) == ["a"]
        with pytest.raises(RedisConnectionError):
            down.incr("rl:claim")  # a counter cannot be faked; core.ratelimit decides
    assert "Cache unavailable, get skipped" in caplog.text


def test_with_redis_url_the_settings_choose_the_fail_open_cache_and_short_timeouts() -> None:
    import os

    from tests.servers import run_json

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
    }
    env.pop("CACHE_URL", None)
    found = run_json(
        env,
        "from django.conf import settings as s\n"
        "print(json.dumps([s.CACHES['default'], s.CELERY_BROKER_TRANSPORT_OPTIONS]))",
    )
    cache_config, broker = found
    assert cache_config["BACKEND"] == "core.cache.FailOpenRedisCache"
    assert cache_config["OPTIONS"]["socket_connect_timeout"] <= 2
    assert broker["socket_connect_timeout"] <= 2 and broker["socket_timeout"] <= 10


def test_pages_that_cache_answer_with_the_cache_down(fy24: Any, settings: Any) -> None:
    """The dashboard caches its figures: with Redis down it computes them (core.cache)."""
    from django.test import Client

    from tests.servers import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.DASHBOARD_CACHE_SECONDS = 300
    client = Client()
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/?segment=enterprise").status_code == 200
