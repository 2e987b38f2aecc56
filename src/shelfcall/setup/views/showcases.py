"""A showcase's products, in the order shoppers see them."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shelfcall.catalog.models import Showcase
from shelfcall.setup import actions
from shelfcall.setup.access import SetupRequest, store_view
from shelfcall.setup.forms import products_form
from shelfcall.setup.views.sections import SECTIONS


@require_POST
@store_view
def showcase_products(request: SetupRequest, showcase_id: int) -> HttpResponse:
    showcase = Showcase.objects.filter(store=request.store, pk=showcase_id).select_related("team").first()
    if showcase is None:
        raise Http404("no such showcase in this store")
    form = products_form(request.store, showcase, request.POST)
    if form.is_valid():
        actions.set_showcase_products(showcase, form.cleaned_data["skus"])
        messages.success(
            request, _("The showcase lists %(count)s products.") % {"count": len(form.cleaned_data["skus"])}
        )
        return redirect("setup:showcases_edit", request.store.pk, showcase.pk)
    part = SECTIONS["showcases"]
    context = {
        "section": part,
        "row": showcase,
        "form": part.make_form(request.store, instance=showcase),
        "products_form": form,
        "active": part.name,
    }
    return render(request, "setup/section_edit.html", context, status=400)
