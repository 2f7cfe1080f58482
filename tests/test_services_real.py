"""The real services: constraints on PostgreSQL, and mail delivered by a real Celery
worker process consuming from Redis."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from core.choices import Role
from notifications.models import OutboundMail
from notifications.services import mail_enqueue
from tests.conftest import worker_env
from tests.factories import CustomerFactory

if TYPE_CHECKING:
    from kombu.transport.redis import Channel as RedisChannel

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
@pytest.mark.django_db
def test_role_organisation_constraint_holds_in_postgres() -> None:
    assert connection.vendor == "postgresql"
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role=Role.PARTNER, customer=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="y", role=Role.CUSTOMER)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_process_delivers_outbox_mail_over_redis(tmp_path: Path, settings: Any) -> None:
    from config.celery_app import app

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    # Settings.broker_url is a read-only property in celery-types; the item is the same key.
    app.conf["broker_url"] = settings.REDIS_URL
    channel = cast("RedisChannel", app.connection_for_write().default_channel)
    channel.client.flushdb()  # stale messages of earlier runs
    env = worker_env(tmp_path)
    worker = subprocess.Popen(
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
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with transaction.atomic():
            rows = [
                mail_enqueue(
                    kind="test",
                    to=[f"r{i}@example.com"],
                    subject=f"Mail {i}",
                    template="mail/plain",
                    context={"body": "x"},
                )
                for i in range(3)
            ]
        ids = [r.pk for r in rows if r]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if OutboundMail.objects.filter(pk__in=ids, status="sent").count() == 3:
                break
            time.sleep(0.25)
        assert OutboundMail.objects.filter(pk__in=ids, status="sent").count() == 3
        assert len(list(tmp_path.iterdir())) == 3
    finally:
        worker.terminate()
        try:
            out, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
        app.conf.task_always_eager, app.conf["broker_url"] = previous
    assert b"Traceback" not in out, out.decode()[-2000:]
