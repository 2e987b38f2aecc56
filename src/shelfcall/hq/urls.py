from django.urls import path

from shelfcall.hq import views

app_name = "hq"

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("stream", views.stream, name="stream"),
    path("lookup", views.lookup, name="lookup"),
    path("inventory", views.inventory, name="inventory"),
    path("orders/<id:order_id>", views.order_page, name="order"),
    path("orders/<id:order_id>/send-link", views.send_link, name="send_link"),
    path("orders/<id:order_id>/resend-ready", views.resend_ready, name="resend_ready"),
    path("orders/<id:order_id>/cancel", views.cancel, name="cancel"),
    path("orders/<id:order_id>/move", views.move, name="move"),
    path("bulk", views.bulk_start, name="bulk"),
    path("jobs/<id:job_id>", views.job_page, name="job"),
    path("jobs/<id:job_id>/refused.csv", views.job_refused_csv, name="job_refused_csv"),
    path("jobs/<id:job_id>/document.pdf", views.job_document, name="job_document"),
]
