from celery import shared_task

from redemptions.reminders import send_poe_reminders as _send_poe
from redemptions.services import flag_overdue_reviews as _flag


@shared_task(acks_late=True)
def flag_overdue_reviews() -> int:
    """Daily: reviewers and leads hear once about each request past its review target."""
    return _flag()


@shared_task(acks_late=True)
def send_poe_reminders() -> int:
    """Daily: partners whose POE is due before the voucher expires."""
    return _send_poe()
