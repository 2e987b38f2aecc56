"""An alert channel's "send a test message": queued through notify's outbox, delivered by the worker."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shelfcall.notify import outbox
from shelfcall.notify.models import Channel
from shelfcall.setup.access import SetupRequest, store_view


@require_POST
@store_view
def send_test(request: SetupRequest, channel_id: int) -> HttpResponse:
    channel = Channel.objects.filter(store=request.store, pk=channel_id).first()
    if channel is None:
        raise Http404("no such channel in this store")
    if not channel.active:
        messages.error(request, _("%(name)s is switched off: switch it on to send it a test.") % {"name": channel.name})
    else:
        outbox.queue_test(channel)
        messages.success(
            request, _("A test message to %(name)s is queued; its delivery shows below.") % {"name": channel.name}
        )
    return redirect("setup:channels_edit", request.store.pk, channel.pk)
