from django.conf import settings
from django.db import models

from shelfcall.core.jobs.models import Job, JobState

__all__ = ["Job", "JobState", "RevokedSignIn", "ThrottleCounter"]  # the job rows are the core app's too


class ThrottleCounter(models.Model):
    """Hits of one rate-limit key in one window (see core/throttle.py); the key is a hash."""

    key = models.CharField(max_length=64, unique=True)
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return f"{self.hits} hits until {self.expires_at:%H:%M:%S}"


class RevokedSignIn(models.Model):
    """A sign-in that was signed out (core/sessions.py): its session cookie, still validly signed wherever
    it was copied to, signs nobody in any more. Kept until that cookie expires anyway."""

    sign_in = models.CharField(max_length=32, unique=True)
    # No constraint in the database: a session may be signed out after its user was deleted.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, db_constraint=False, related_name="+")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "revoked sign-in"

    def __str__(self) -> str:
        return f"sign-in of user {self.user_id}, revoked until {self.expires_at:%Y-%m-%d %H:%M}"
