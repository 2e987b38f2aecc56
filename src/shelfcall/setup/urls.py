from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from shelfcall.setup.views import channels, sections, showcases, staff, stores

app_name = "setup"

STORE = "stores/<id:store_id>/"

urlpatterns = [
    path("", stores.home, name="home"),
    path("roles", stores.roles, name="roles"),
    path("stores/new", stores.store_new, name="store_new"),
    path(STORE, stores.store, name="store"),
    path(f"{STORE}edit", stores.store_edit, name="store_edit"),
    path(f"{STORE}settings", stores.store_settings, name="store_settings"),
    path(f"{STORE}logo", stores.store_logo, name="store_logo"),
    path(f"{STORE}delete", stores.store_delete, name="store_delete"),
    path(f"{STORE}staff", staff.staff, name="staff"),
    path(f"{STORE}staff/<id:membership_id>", staff.staff_edit, name="staff_edit"),
    path(f"{STORE}staff/<id:membership_id>/remove", staff.staff_remove, name="staff_remove"),
    path(f"{STORE}showcases/<id:showcase_id>/products", showcases.showcase_products, name="showcase_products"),
    path(f"{STORE}channels/<id:channel_id>/test", channels.send_test, name="channel_test"),
]
for name in sections.SECTIONS:
    slug = name.replace("_", "-")
    urlpatterns += [
        path(f"{STORE}{slug}", sections.section_list, {"section": name}, name=name),
        path(f"{STORE}{slug}/<id:row_id>", sections.section_edit, {"section": name}, name=f"{name}_edit"),
        path(f"{STORE}{slug}/<id:row_id>/delete", sections.section_delete, {"section": name}, name=f"{name}_delete"),
    ]

# Outside /setup/: a store's logo (public: shopper pages show it) and the invitation to choose a password.
public_urlpatterns = [
    path("logos/<id:store_id>/<slug:version>", stores.logo, name="setup_logo"),
    path(
        "welcome/<uidb64>/<token>",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="setup/welcome.html",
            success_url=reverse_lazy("workspace:login"),
            reset_url_token="choose",
        ),
        name="setup_welcome",
    ),
]
