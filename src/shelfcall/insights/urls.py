from django.urls import path

from shelfcall.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:section>.csv", views.export, name="export"),
]
