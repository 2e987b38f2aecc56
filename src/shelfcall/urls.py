from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("w/", include("shelfcall.workspace.urls")),
    path("", include("shelfcall.shopper.urls")),
    path("", RedirectView.as_view(pattern_name="workspace:queue"), name="home"),
]

handler500 = "shelfcall.core.views.server_error"
