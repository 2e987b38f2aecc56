"""A person's alerts: their devices (turn on, name, test, remove) and their shift; and what makes the
workspace an installable web app (manifest, service worker, offline notice)."""

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from shelfcall.core import throttle
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.throttle import Rate
from shelfcall.notify import devices as device_actions
from shelfcall.notify import webpush
from shelfcall.workspace.errors import refusal_shown
from shelfcall.workspace.views.access import WorkspaceRequest, staff_view

ICON_SIZES = (192, 512)
# Turning alerts on is a few times a shift; a test alert a few times a minute at most.
SUBSCRIBE_RATE = Rate("push.subscribe", 20, 3600)
TEST_RATE = Rate("push.test", 5, 60)


class RenameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Device name"), max_length=device_actions.NAME_MAX_LENGTH)


@staff_view()
def devices(request: WorkspaceRequest) -> HttpResponse:
    context = {
        "devices": list(device_actions.devices_of(request.user)),
        "on_shift": device_actions.is_on_shift(request.user),
        "server_key": webpush.application_server_key(),
    }
    return render(request, "workspace/devices.html", context)


@require_POST
@staff_view()
def subscribe(request: WorkspaceRequest) -> JsonResponse:
    """What the page's script posts once the browser subscribed: its PushSubscription as JSON."""
    throttle.check(SUBSCRIBE_RATE, f"user:{request.user.pk}")
    try:
        data = json.loads(request.body or b"{}")
        keys = data.get("keys") or {}
        fields = {
            "endpoint": str(data.get("endpoint") or ""),
            "p256dh": str(keys.get("p256dh") or ""),
            "auth": str(keys.get("auth") or ""),
            "name": str(data.get("name") or ""),
        }
    except (ValueError, AttributeError):
        return _refused(_("Send the browser's subscription as JSON."), "body")
    try:
        device = device_actions.subscribe(request.user, **fields)
    except ShelfcallError as refused:
        return _refused(refused.message, refused.field)
    return JsonResponse({"id": device.pk, "name": device.name}, status=201)


def _refused(message: str, field: str | None) -> JsonResponse:
    return JsonResponse({"error": {"code": "bad_subscription", "message": message, "field": field}}, status=422)


@require_POST
@staff_view()
def test_device(request: WorkspaceRequest, device_id: int) -> HttpResponse:
    throttle.check(TEST_RATE, f"user:{request.user.pk}")
    device = device_actions.devices_of(request.user).filter(pk=device_id).first()
    if device is None:
        messages.error(request, _("That device no longer has alerts."))
    else:
        webpush.queue_device_test(device)
        messages.success(request, _("A test alert is on its way to %(name)s.") % {"name": device.name})
    return redirect("workspace:devices")


@require_POST
@staff_view()
def rename_device(request: WorkspaceRequest, device_id: int) -> HttpResponse:
    form = RenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the device a name of at most 80 characters, e.g. Till tablet."))
        return redirect("workspace:devices")
    with refusal_shown(request):
        if device_actions.rename(request.user, device_id, form.cleaned_data["name"]):
            messages.success(request, _("Device renamed."))
        else:
            messages.error(request, _("That device no longer has alerts."))
    return redirect("workspace:devices")


@require_POST
@staff_view()
def remove_device(request: WorkspaceRequest, device_id: int) -> HttpResponse:
    if device_actions.remove(request.user, device_id):
        messages.success(request, _("Alerts turned off for that device."))
    else:
        messages.error(request, _("That device no longer has alerts."))
    return redirect("workspace:devices")


@require_POST
@staff_view()
def shift(request: WorkspaceRequest) -> HttpResponse:
    on_shift = request.POST.get("on_shift") == "1"
    device_actions.set_shift(request.user, on_shift=on_shift)
    if on_shift:
        messages.success(request, _("You are on shift: your devices get alerts."))
    else:
        messages.success(request, _("You are off shift: your devices get no alerts until you are back."))
    return redirect("workspace:devices")


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": _("Shelfcall workspace"),
        "short_name": "Shelfcall",
        "description": _("Store requests: claim, pick, stage and hand off."),
        "id": reverse("workspace:queue"),
        "start_url": reverse("workspace:queue"),
        "scope": reverse("workspace:queue"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1F4E79",
        "icons": [
            {"src": static(f"shelfcall/icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
            for size in ICON_SIZES
        ]
        + [{"src": static("shelfcall/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served under /w/ so that its scope is the whole workspace; never cached, so updates reach devices."""
    shell = [
        reverse("workspace:offline"),
        static("shelfcall/shopper.css"),
        static("shelfcall/workspace.css"),
        static("shelfcall/icons/icon-192.png"),
    ]
    context = {
        "shell": json.dumps(shell),
        "offline": json.dumps(reverse("workspace:offline")),
        "icon": json.dumps(static("shelfcall/icons/icon-192.png")),
    }
    response = render(request, "workspace/sw.js", context, content_type="text/javascript")
    response["Service-Worker-Allowed"] = reverse("workspace:queue")
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows instead of the browser's error page when the network is gone."""
    return render(request, "workspace/offline.html")
