"""Handing work to Celery without letting a broker outage fail the request that asked for it.

Every task enqueued from a request is backed by durable state that a beat sweep picks up
again: outbox rows (`notifications.tasks.dispatch_pending_mail`), issued vouchers without
their mail (`vouchers.tasks.send_missing_voucher_mail`) and import jobs left queued
(`imports.tasks.resume_queued_imports`). So when Redis is down at commit time, the data is
already committed and the right answer is still 2xx: log it and leave the work to the sweep.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What publishing raises when the broker cannot be reached: Celery wraps the transport's
# connection errors in kombu's OperationalError; the rest are raised as they are.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
)
# Two quick retries (a broker restart or failover), then give up: a request must not wait
# for a broker that is down; the sweep sends the work later.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}


def enqueue(task: Any, *args: Any, argsrepr: str | None = None, **kwargs: Any) -> bool:
    """Publishes `task(*args, **kwargs)`. False, with a warning, when the broker is down.
    `argsrepr` is what monitoring shows for the arguments; without it Celery builds a
    safe repr of them, half the cost of publishing a task that carries 200 ids."""
    if task.app.conf.task_always_eager:
        # Tests and the eager mode run the task inline: its own errors must propagate.
        task.apply_async(args=args, kwargs=kwargs)
        return True
    try:
        task.apply_async(
            args=args,
            kwargs=kwargs,
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
            **({"argsrepr": argsrepr} if argsrepr is not None else {}),
        )
    except BROKER_ERRORS as exc:
        logger.warning(
            "Broker unavailable: %s%r not enqueued, left to its sweep (%s: %s)",
            task.name,
            args,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """`enqueue` once the surrounding transaction commits (nothing if it rolls back)."""
    transaction.on_commit(partial(enqueue, task, *args, **kwargs))
