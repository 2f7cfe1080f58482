from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from imports.models import ImportJob


@shared_task(acks_late=True)
def commit_import(job_id: int) -> int:
    """Creates an import's nominations; a redelivered task resumes or does nothing."""
    from imports.services.commit import import_commit

    return import_commit(job_id=job_id).created_count


@shared_task(acks_late=True)
def resume_queued_imports(min_age_seconds: int = 120) -> int:
    """Beat: re-enqueues imports still queued (the broker was down when "Create" was
    pressed). A duplicate of a task still waiting in the queue is harmless: the commit locks
    the job per chunk and a job done does nothing."""
    cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
    ids = list(
        ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:50]
    )
    for job_id in ids:
        commit_import.delay(job_id)
    return len(ids)
