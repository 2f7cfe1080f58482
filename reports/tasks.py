from celery import shared_task
from django.utils import timezone

from reports.selectors import dashboard_refresh


@shared_task(acks_late=True)
def warm_dashboard() -> None:
    """Every few minutes: the program dashboard's unfiltered figures, so program managers
    read them from the cache (`make bench`)."""
    dashboard_refresh(today=timezone.localdate())
