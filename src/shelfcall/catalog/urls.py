from django.urls import path

from shelfcall.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.index, name="index"),
    path("columns", views.columns_page, name="columns"),
    path("schema.json", views.schema, name="schema"),
    path("<id:store_id>/", views.store_page, name="store"),
    path("<id:store_id>/export.csv", views.export, name="export"),
    path("<id:store_id>/imports/<id:import_id>", views.import_page, name="import"),
    path("<id:store_id>/imports/<id:import_id>/progress", views.import_progress, name="progress"),
    path("<id:store_id>/imports/<id:import_id>/apply", views.apply_import, name="apply"),
    path("<id:store_id>/imports/<id:import_id>/cancel", views.cancel_import, name="cancel"),
    path("<id:store_id>/imports/<id:import_id>/undo", views.undo_import, name="undo"),
]
