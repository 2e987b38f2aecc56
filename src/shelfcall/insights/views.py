"""The insights page and the CSV export of each of its tables."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.insights import facts, tables
from shelfcall.insights.figures import Dashboard, build_dashboard
from shelfcall.insights.forms import PeriodForm
from shelfcall.stores import policy
from shelfcall.stores.models import Store

# Supervisors see the stores they supervise; store and organization admins theirs. Associates see none.
INSIGHTS_PERM = policy.Perm.SUPERVISE


def _visible_stores(request: HttpRequest) -> list[Store]:
    stores = list(policy.stores_granting(request.user, INSIGHTS_PERM))
    if not stores:
        raise PermissionDenied
    return stores


def _chosen(request: HttpRequest) -> tuple[PeriodForm, Dashboard | None]:
    stores = _visible_stores(request)
    # "Today" is the chosen store's (the first one's for several: their days differ by hours at most).
    timezone.activate(next((s for s in stores if str(s.pk) == request.GET.get("store")), stores[0]).timezone)
    form = PeriodForm(request.GET, stores=stores, today=timezone.localdate(clock.now()))
    if not form.is_valid():
        return form, None
    return form, build_dashboard(form.chosen_stores(), form.period, none_label=_("(none)"))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, figures = _chosen(request)
    context = {
        "form": form,
        "dashboard": figures,
        "tables": tables.all_tables(figures) if figures else [],
        "refreshed_at": facts.refreshed_at(),
        "query": form.query,  # the days shown, even when the address left them out
    }
    return render(request, "insights/dashboard.html", context, status=200 if figures else 400)


@login_required
def export(request: HttpRequest, section: str) -> HttpResponse:
    build = tables.SECTIONS.get(section)
    if build is None:
        raise Http404("no such table")
    form, figures = _chosen(request)
    if figures is None:
        errors = "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    table = build(figures)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    period = figures.period
    response["Content-Disposition"] = f'attachment; filename="insights-{section}-{period.start}-{period.end}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return response
