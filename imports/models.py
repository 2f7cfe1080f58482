"""A bulk nomination import: the parsed and checked rows of one uploaded file."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ImportJob(models.Model):
    """One uploaded file. `rows` keeps every data row as checked at preview (and updated at
    commit): `{"row": 2, "raw": {...}, "extra": [...], "values": {...} | None,
    "violations": [{"rule", "message"}], "ok": bool, "nomination": id | None}`: `raw` the
    cells of the columns the import reads, `extra` those of the other columns, in the
    order of `columns` (the header as uploaded), so the error report gives a refused row
    back whole. `processed_rows` is the commit's
    cursor into `rows`: every row before it has been created or refused, as recorded in
    `outcomes` until the job is done."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Creating nominations"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255, help_text="As uploaded; for display only.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    total_rows = models.PositiveIntegerField(default=0)
    good_rows = models.PositiveIntegerField(default=0)
    bad_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    rows = models.JSONField(default=list)
    columns = models.JSONField(
        default=list,
        blank=True,
        help_text="The header row as uploaded (blank columns left out), for the error report.",
    )
    outcomes = models.JSONField(
        default=dict,
        blank=True,
        help_text="While committing: row index -> {nomination} or {violations}; merged into "
        "rows when the job is done.",
    )
    error = models.TextField(blank=True, help_text="Why the commit failed, when it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["uploaded_by", "created_at"], name="importjob_user_created")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=F("total_rows")),
                name="importjob_processed_le_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.file_name} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else self.processed_rows * 100 // self.total_rows

    def bad(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["ok"]]

    def good(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["ok"]]
