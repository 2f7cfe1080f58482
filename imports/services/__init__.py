"""Bulk nomination import: every row of a file checked against the program rules, then
the good rows created as nominations in chunks (R-ELIG-*, R-OFFER-1, R-WL-*, R-CAP-*).

`import_preview` reads and checks the whole file with one `ProgramRules` instance and a
fixed number of queries; `import_queue` hands the commit to a worker; `import_commit`
creates the nominations 500 at a time, each chunk in its own transaction so a page can
follow `processed_rows`, and is safe to run twice."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.errors import StateConflict
from core.tasks import enqueue_on_commit
from imports.models import ImportJob
from imports.services.commit import import_commit
from imports.services.preview import import_preview, uploader_role
from imports.tasks import commit_import

__all__ = ["import_commit", "import_preview", "import_queue", "uploader_role"]


def import_queue(*, job_id: int, user: User) -> ImportJob:
    """The "Create N nominations" button: queues the commit once (a second click, or a
    job already queued, running or done, changes nothing)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id, uploaded_by=user)
        if job.status not in (ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED):
            return job
        if not any(r["ok"] for r in job.rows[job.processed_rows :]):
            raise StateConflict(
                "No row of this file can be nominated; correct the errors and upload it again.",
                code="nothing_to_create",
            )
        job.status = ImportJob.Status.QUEUED
        job.error = ""
        job.save(update_fields=["status", "error"])
        enqueue_on_commit(commit_import, job_id)  # broker down: resume_queued_imports
    return job
