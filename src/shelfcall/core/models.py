from django.db import models

from shelfcall.core.jobs.models import Job, JobState

__all__ = ["Job", "JobState", "ThrottleCounter"]  # the job rows are the core app's too


class ThrottleCounter(models.Model):
    """Hits of one rate-limit key in one window (see core/throttle.py); the key is a hash."""

    key = models.CharField(max_length=64, unique=True)
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return f"{self.hits} hits until {self.expires_at:%H:%M:%S}"
