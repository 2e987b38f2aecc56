from django.urls import path

from shelfcall.shopper import views

app_name = "shopper"

urlpatterns = [
    path("s/<str:code>", views.showcase_page, name="showcase"),
    path("s/<str:code>/add", views.add_to_cart, name="add"),
    path("s/<str:code>/cart", views.cart_page, name="cart"),
    path("s/<str:code>/cart/<id:product_id>", views.change_line, name="change_line"),
    path("s/<str:code>/submit", views.submit, name="submit"),
    path("s/<str:code>/sign", views.sign, name="sign"),
    path("p/<str:code>", views.product_link, name="product"),
    path("o/<str:token>", views.status_page, name="status"),
    path("o/<str:token>/cancel", views.cancel, name="cancel"),
    path("o/<str:token>/here", views.check_in, name="check_in"),
    path("o/<str:token>/substitutes/<id:line_id>", views.answer_substitute, name="substitute"),
    path("o/<str:token>/events", views.status_events, name="events"),
]
