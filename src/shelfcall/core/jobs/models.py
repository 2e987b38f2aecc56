"""Job rows: one per piece of queued background work (an import, a bulk action), with its progress and outcome."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Job(models.Model):
    """A queued job and how it went. While it runs, a worker holds its lease (`lease_until`, renewed by
    its heartbeat); a job whose worker died is taken up again once the lease has run out. `attempts`
    counts the times a worker took it, and so also tells whose lease it is."""

    kind = models.CharField(_("kind"), max_length=100)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), null=True, blank=True)
    # {"items": {key: {...}}: per-item results of bulk work, "result": what the handler returned}
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=120, blank=True)  # host and process id
    created_at = models.DateTimeField(_("queued at"), default=clock.now)
    available_at = models.DateTimeField(_("may start at"), default=clock.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [
            # What a worker looks for: small partial indexes, whatever the number of finished jobs.
            models.Index(fields=["available_at"], name="job_queued", condition=Q(state="queued")),
            models.Index(fields=["lease_until"], name="job_running", condition=Q(state="running")),
            models.Index(fields=["finished_at"], name="job_finished", condition=Q(finished_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"
