from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.core.jobs import queue
from shelfcall.core.jobs.models import Job
from shelfcall.stores.scoped_admin import ScopedModelAdmin


@admin.register(Job)
class JobAdmin(ScopedModelAdmin[Job]):
    """Background jobs, read-only: what ran, how far it got, how it ended. A job belongs to no store
    (stores.policy lists no path for it), so only superusers see them here; the pages that queue a
    job show its progress to whoever asked."""

    list_display = ["created_at", "kind", "state", "progress", "requested_by", "attempts", "finished_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["requested_by"]
    search_fields = ["=id", "kind"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, job: Job) -> str:
        return f"{job.done} / {job.total}" if job.total is not None else str(job.done)

    @admin.action(description=gettext_lazy("Retry the failed jobs"), permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        count = queue.retry(queryset)
        self.message_user(request, _("%(count)s failed job(s) queued again.") % {"count": count})
