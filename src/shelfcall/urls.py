from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from shelfcall.api.v1 import api, no_such_endpoint
from shelfcall.ops import health, metrics
from shelfcall.setup.urls import public_urlpatterns as setup_public_urls

urlpatterns = [
    # First, for its status streams (shopper/urls.py); its addresses share no prefix with the others.
    path("", include("shelfcall.shopper.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>(?s:.*))\Z", no_such_endpoint),  # (?s): a newline in the path is still the API's
    path("w/", include("shelfcall.workspace.urls")),
    path("setup/catalogue/", include("shelfcall.catalog.urls")),  # before the other setup/ pages
    path("setup/", include("shelfcall.setup.urls")),
    *setup_public_urls,
    path("insights/", include("shelfcall.insights.urls")),
    path("hq/", include("shelfcall.hq.urls")),
    path("", RedirectView.as_view(pattern_name="workspace:queue"), name="home"),
]

handler400 = "shelfcall.core.views.bad_request"
handler500 = "shelfcall.core.views.server_error"
