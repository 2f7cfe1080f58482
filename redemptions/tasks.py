from celery import shared_task

from redemptions.overdue import flag_overdue_reviews as _flag


@shared_task(acks_late=True)
def flag_overdue_reviews() -> int:
    """Daily: reviewers and leads hear once about each request past its review target."""
    return _flag()
