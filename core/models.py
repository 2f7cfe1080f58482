from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Event(models.Model):
    """One row per state change or decision, never edited or deleted (R-REV-2).

    `subject` names the kind of object ("nomination", "voucher", "request"), `subject_id`
    its primary key. Rows are written only by services, in the transaction of the change.
    """

    subject = models.SlugField(max_length=30)
    subject_id = models.BigIntegerField()
    action = models.SlugField(max_length=40)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subject", "subject_id", "at"], name="event_subject_at")]

    def __str__(self) -> str:
        return f"{self.subject}:{self.subject_id} {self.action} {self.from_state}->{self.to_state}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Events are append-only (R-REV-2).")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Events are append-only (R-REV-2).")
