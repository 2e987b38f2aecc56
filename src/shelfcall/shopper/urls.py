from django.urls import path

from shelfcall.printing import views as printing
from shelfcall.shopper import views

app_name = "shopper"

urlpatterns = [
    # First: a stream keeps its request, and the request keeps the patterns tried before its match.
    path("o/<str:token>/events", views.status_events, name="events"),
    path("s/<str:code>", views.showcase_page, name="showcase"),
    path("s/<str:code>/add", views.add_to_cart, name="add"),
    path("s/<str:code>/cart", views.cart_page, name="cart"),
    path("s/<str:code>/cart/<id:product_id>", views.change_line, name="change_line"),
    path("s/<str:code>/submit", views.submit, name="submit"),
    path("s/<str:code>/sign", views.sign, name="sign"),
    path("s/<str:code>/sign.pdf", printing.showcase_sign_pdf, name="sign_pdf"),
    path("p/<str:code>/sign.pdf", printing.product_sign_pdf, name="product_sign_pdf"),
    path("stores/<id:store_id>/signs.pdf", printing.store_signs_pdf, name="store_signs_pdf"),
    path("p/<str:code>", views.product_link, name="product"),
    path("o/<str:token>", views.status_page, name="status"),
    path("o/<str:token>/cancel", views.cancel, name="cancel"),
    path("o/<str:token>/here", views.check_in, name="check_in"),
    path("o/<str:token>/substitutes/<id:line_id>", views.answer_substitute, name="substitute"),
]
