from django.contrib.auth import views as auth_views
from django.urls import path

from shelfcall.workspace.views import (
    counter,
    devices,
    handoff,
    multipick,
    order,
    queue,
    refunds,
    session,
    substitutes,
    switch,
)

app_name = "workspace"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("login", session.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(next_page="workspace:login"), name="logout"),
    path("stores", session.stores, name="stores"),
    path("password", session.choose_password, name="choose_password"),
    path("switch", switch.switch_user, name="switch"),
    path("pin", switch.my_pin, name="pin"),
    path("stream", queue.store_stream, name="stream"),
    path("orders/<id:order_id>", order.order_page, name="order"),
    path("orders/<id:order_id>/stream", order.order_stream, name="order_stream"),
    path("orders/<id:order_id>/label", order.bag_label, name="label"),
    path("orders/<id:order_id>/handoff", handoff.handoff, name="handoff"),
    path("orders/<id:order_id>/refund", refunds.settle_refund, name="settle_refund"),
    path("orders/<id:order_id>/lines/<id:line_id>/substitute", substitutes.offer_substitute, name="substitute"),
    path("orders/<id:order_id>/<slug:action>", order.order_action, name="order_action"),
    path("handoff", handoff.find_for_handoff, name="find_handoff"),
    path("till", counter.till, name="till"),
    path("refunds", refunds.refunds, name="refunds"),
    path("pick", multipick.multi_pick, name="multi_pick"),
    path("devices", devices.devices, name="devices"),
    path("devices/subscribe", devices.subscribe, name="subscribe_device"),
    path("devices/<id:device_id>/test", devices.test_device, name="test_device"),
    path("devices/<id:device_id>/rename", devices.rename_device, name="rename_device"),
    path("devices/<id:device_id>/remove", devices.remove_device, name="remove_device"),
    path("shift", devices.shift, name="shift"),
    path("manifest.webmanifest", devices.manifest, name="manifest"),
    path("sw.js", devices.service_worker, name="service_worker"),
    path("offline", devices.offline, name="offline"),
]
