"""Models of this app."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One import started from the staff pages, run by a task worker.

    The web request only stores the upload and this row; the worker checks and
    writes the file (``transfer.jobs.run_job``) and keeps the progress here, so
    the progress page can show it and no request waits for a long import.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        CHECKING = "checking", _("Checking the rows")
        WRITING = "writing", _("Importing")
        DONE = "done", _("Finished")
        REFUSED = "refused", _("Not imported: rows with problems")
        FAILED = "failed", _("Stopped by an error")

    FINISHED = (Status.DONE, Status.REFUSED, Status.FAILED)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    file_name = models.CharField(max_length=150)
    # The uploaded file in the data folder; emptied once the file is removed.
    stored_name = models.CharField(max_length=64, blank=True)
    purpose_key = models.CharField(max_length=50)
    format = models.CharField(max_length=20)
    encoding = models.CharField(max_length=20, default="utf-8")
    mapping = models.JSONField(default=dict)
    valid_only = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_checked = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    rows_to_write = models.PositiveIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(null=True, blank=True)
    # The import report (counts and the first problems by row and column).
    report = models.JSONField(null=True, blank=True)
    # Why the import stopped, for the staff user (no personal data).
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")

    def __str__(self) -> str:
        return f"import {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    def percent(self) -> int:
        """How far along, for the progress bar: checking is the first half."""
        if self.status in (self.Status.DONE, self.Status.REFUSED):
            return 100
        if self.status == self.Status.CHECKING and self.bytes_total:
            return min(49, int(50 * self.bytes_read / self.bytes_total))
        if self.status == self.Status.WRITING and self.rows_to_write:
            return 50 + min(50, int(50 * self.rows_written / self.rows_to_write))
        return 0
