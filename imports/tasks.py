from celery import shared_task

from imports.services import import_commit


@shared_task(acks_late=True)
def commit_import(job_id: int) -> int:
    """Creates an import's nominations; a redelivered task resumes or does nothing."""
    return import_commit(job_id=job_id).created_count
