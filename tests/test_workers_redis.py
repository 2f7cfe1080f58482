"""Scheduled work on the real broker: two worker processes drain the same reminders over Redis
with no duplicate and no gap, and a worker killed (SIGKILL) mid-run leaves, after a
restart, exactly one mail per due reminder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.conf import settings as django_settings
from django.db.models import Count

from notifications.models import OutboundMail
from tests.conftest import worker_env
from tests.factories import bulk_vouchers
from vouchers.models import ReminderMarker

if TYPE_CHECKING:
    from kombu.transport.redis import Channel as RedisChannel

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today()  # noqa: DTZ011 - the workers run on the real clock


@pytest.fixture
def broker(settings: Any) -> Iterator[Any]:
    from config.celery_app import app

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    # Settings.broker_url is a read-only property in celery-types; the item is the same key.
    app.conf["broker_url"] = django_settings.REDIS_URL
    with app.connection_for_write() as conn:
        cast("RedisChannel", conn.default_channel).client.flushdb()
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf["broker_url"] = previous


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    # Small batches, so a worker is killed between two of them (the production batch
    # does these 3,000 vouchers in one transaction, faster than the test can look).
    env = {**worker_env(tmp_path / "mail"), "REMINDER_BATCH": "50"}
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def assert_exactly_once(count: int, mail_dir: Path) -> None:
    markers = ReminderMarker.objects.filter(kind="expiry", outcome="sent")
    assert markers.count() == count
    assert not markers.values("voucher").annotate(n=Count("id")).filter(n__gt=1).exists()
    mails = OutboundMail.objects.filter(kind="expiry_reminder")
    assert mails.count() == count and mails.filter(status="sent").count() == count
    # The file backend may append several messages to one file: count the messages.
    subjects = [
        line
        for path in mail_dir.iterdir()
        for line in path.read_text().splitlines()
        if line.startswith("Subject: ")
    ]
    assert len(subjects) == count  # delivered once each


def test_two_workers_drain_the_same_reminders(
    fy24: Any, broker: Any, workers: Any, tmp_path: Path
) -> None:
    from vouchers.tasks import send_expiry_reminders

    bulk_vouchers(
        fy24, 1200, issued_on=TODAY - timedelta(days=170), expires_on=TODAY + timedelta(days=5)
    )
    workers("one")
    workers("two")
    for _ in range(4):  # the same job enqueued several times at once
        send_expiry_reminders.delay()
    done = wait_for(
        lambda: OutboundMail.objects.filter(kind="expiry_reminder", status="sent").count() >= 1200,
        120,
    )
    assert done, OutboundMail.objects.values("status").annotate(n=Count("id"))
    time.sleep(1)  # any duplicate would have arrived by now
    assert_exactly_once(1200, tmp_path / "mail")


def test_worker_killed_mid_run_then_restarted(
    fy24: Any, broker: Any, workers: Any, tmp_path: Path
) -> None:
    from notifications.tasks import dispatch_pending_mail
    from vouchers.tasks import send_expiry_reminders

    bulk_vouchers(
        fy24, 3000, issued_on=TODAY - timedelta(days=170), expires_on=TODAY + timedelta(days=5)
    )
    victim = workers("victim")
    send_expiry_reminders.delay()
    sent = ReminderMarker.objects.filter(kind="expiry", outcome="sent")
    assert wait_for(lambda: sent.count() >= 500, 120), "the first batch never committed"
    os.kill(victim.pid, signal.SIGKILL)  # mid-run: later batches are not done
    victim.wait(timeout=20)
    partial = sent.count()
    assert 500 <= partial < 3000, partial
    workers("after-restart")
    send_expiry_reminders.delay()  # the next beat run
    # A worker killed between a batch's commit and its hand-off leaves that batch's mail
    # pending in the outbox; beat's outbox sweep sends it. Run it once the reminders are in.
    assert wait_for(lambda: sent.count() >= 3000, 180), sent.count()
    dispatch_pending_mail.delay(min_age_seconds=0)
    done = wait_for(
        lambda: OutboundMail.objects.filter(kind="expiry_reminder", status="sent").count() >= 3000,
        180,
    )
    assert done, OutboundMail.objects.values("status").annotate(n=Count("id"))
    time.sleep(1)
    assert_exactly_once(3000, tmp_path / "mail")
