"""Item 15: numbers from outside (form fields, queries, paths, headers) are read by one helper or one
path converter: ASCII digits only, bounded to what a column holds. Odd ones get a 404 or a clear
message, never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from shelfcall.core.numbers import MAX_NUMBER, IdChoiceField, WholeNumberField, parse_number
from shelfcall.live.sse import last_event_id
from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import Order
from shelfcall.stores.models import Role
from shelfcall.workspace.forms import HandOffForm
from tests.factories import make_product, make_showcase, make_store, make_user, submit

# ² passes str.isdigit() but not int(); ٣ and the fullwidth one pass int() but are no ASCII digits; big ones
# overflow SQLite's (and PostgreSQL's) 64-bit integers.
ODD = ["²", "٣", "１", "12345678901234567890", str(MAX_NUMBER + 1), "-1", "", " ", "1e3", "0x1f", "1.0"]
TOO_BIG_FOR_A_PATH = ["12345678901234567890", str(MAX_NUMBER + 1), "0"]


@pytest.mark.parametrize("text", ODD)
def test_parse_number_refuses_odd_input(text):
    assert parse_number(text) is None


def test_parse_number_reads_ascii_digits_within_bounds():
    assert parse_number(" 42 ") == 42
    assert parse_number(str(MAX_NUMBER)) == MAX_NUMBER
    assert parse_number("5", minimum=1, maximum=4) is None


@pytest.mark.parametrize("text", ["²", "٣", "１", "-1", "1e3", "12345678901234567890"])
def test_the_form_field_names_the_fix(text):
    field = WholeNumberField(min_value=1, max_value=999)
    with pytest.raises(Exception) as refusal:
        field.clean(text)
    assert refusal.value.messages[0] in (
        "Enter a whole number using the digits 0 to 9.",
        "Ensure this value is greater than or equal to 1.",
        "Ensure this value is less than or equal to 999.",
    )


@pytest.mark.parametrize("header", ["²", "٣", "１", "12345678901234567890", "-1"])
def test_an_odd_last_event_id_replays_from_the_start(header):
    assert last_event_id(RequestFactory().get("/", HTTP_LAST_EVENT_ID=header)) == 0
    assert last_event_id(RequestFactory().get("/", {"last_event_id": header})) == 0


@pytest.fixture
def shop(db):
    store = make_store()
    product = make_product(store, on_hand=50)
    showcase = make_showcase(store, products=[product])
    supervisor = make_user(store, name="Sam", role=Role.SUPERVISOR)
    order = submit(showcase)
    actions.claim_order(order.pk, by=Actor.staff(supervisor))
    staff = Client(raise_request_exception=False)
    staff.force_login(supervisor)
    admin = Client(raise_request_exception=False)
    admin.force_login(get_user_model().objects.create_superuser("root", password="x"))
    shopper = Client(raise_request_exception=False)
    shopper.post(f"/s/{showcase.code}/add", {"product": product.pk})
    return {
        "showcase": showcase,
        "product": product,
        "order": order,
        "line": order.lines.get().pk,
        "staff": staff,
        "admin": admin,
        "shopper": shopper,
    }


def _requests(shop, value):
    """Every public and staff URL that takes a number, with `value` in that number's place."""
    code, order, line, product = shop["showcase"].code, shop["order"].pk, shop["line"], shop["product"].pk
    shopper, staff = shop["shopper"], shop["staff"]
    return {
        "add to cart": lambda: shopper.post(f"/s/{code}/add", {"product": value}),
        "cart quantity": lambda: shopper.post(f"/s/{code}/cart/{product}", {"qty": value}),
        "cart line price": lambda: shopper.post(f"/s/{code}/cart/{value}", {"action": "accept_price"}),
        "queue search": lambda: staff.get("/w/", {"q": value}),
        "queue search by barcode": lambda: staff.get("/w/", {"q": f"SC{value}"}),
        "till": lambda: staff.get("/w/till", {"code": f"SC{value}"}),
        "find for hand-off": lambda: staff.get("/w/handoff", {"code": f"SC{value}"}),
        "multi-pick": lambda: staff.get("/w/pick", {"order": [value, str(order)]}),
        "switch user": lambda: staff.post("/w/switch", {"user": value, "pin": "123456"}),
        "choose store": lambda: staff.post("/w/stores", {"store": value}),
        "pick line id": lambda: staff.post(f"/w/orders/{order}/pick", {"line": value, "qty": "1"}),
        "pick quantity": lambda: staff.post(f"/w/orders/{order}/pick", {"line": line, "qty": value}),
        "not found quantity": lambda: staff.post(f"/w/orders/{order}/not-found", {"line": line, "qty": value}),
        "reassign": lambda: staff.post(f"/w/orders/{order}/reassign", {"to": value}),
        "stage at drop zone": lambda: staff.post(f"/w/orders/{order}/stage", {"drop_zone": value}),
        "order page": lambda: staff.get(f"/w/orders/{value}"),
        "admin order": lambda: shop["admin"].get(f"/admin/orders/order/{value}/change/"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD)
def test_no_url_answers_500(shop, value):
    statuses = {name: send().status_code for name, send in _requests(shop, value).items()}
    assert {name: status for name, status in statuses.items() if status >= 500} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "٣", "１", "12345678901234567890"])
def test_the_till_says_no_such_order(shop, value):
    response = shop["staff"].get("/w/till", {"code": f"SC{value}"})
    assert response.status_code == 200
    assert "Check the number and try again" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "٣", "１", "-1", "12345678901234567890"])
def test_a_pick_quantity_gets_a_message_naming_the_field(shop, value):
    response = shop["staff"].post(f"/w/orders/{shop['order'].pk}/pick", {"line": shop["line"], "qty": value})
    assert response.status_code == 302
    (message,) = [str(m) for m in response.wsgi_request._messages]
    assert message.startswith("Quantity: ")
    assert shop["order"].lines.get().picked_qty == 0


@pytest.mark.django_db
def test_an_arabic_indic_digit_is_not_read_as_a_product_id(shop):
    """int("٣") is 3: the shopper's cart must not get product 3 from it."""
    fresh = Client()
    fresh.post(f"/s/{shop['showcase'].code}/add", {"product": f"{shop['product'].pk}".translate(_ARABIC_INDIC)})
    assert fresh.session.get("shelfcall_carts", {}).get(shop["showcase"].code, {}).get("lines", {}) == {}


_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.django_db
@pytest.mark.parametrize("path", TOO_BIG_FOR_A_PATH)
def test_an_id_in_a_path_beyond_any_row_is_a_404(shop, path):
    assert shop["staff"].get(f"/w/orders/{path}").status_code == 404
    assert shop["staff"].get(f"/w/orders/{path}/label").status_code == 404
    assert shop["shopper"].post(f"/s/{shop['showcase'].code}/cart/{path}", {"qty": "1"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "１", "-1", "12345678901234567890"])
def test_a_choice_of_a_row_reads_its_id_like_every_number(shop, value):
    field = IdChoiceField(queryset=Order.objects.all())
    assert field.clean(str(shop["order"].pk)) == shop["order"]
    with pytest.raises(ValidationError):
        field.clean(value)
    with pytest.raises(ValidationError):  # int("٣") would have chosen row 3
        field.clean(str(shop["order"].pk).translate(_ARABIC_INDIC))


@pytest.mark.parametrize("key", ["reject_07", "reject_0", "reject_٧", "reject_７", "reject_7\n", "reject_+7", "reject"])
def test_a_turned_down_count_is_named_by_one_way_of_writing_its_line(key):
    """reject_07 and reject_7 named the same line: the review's answers are read by the names it wrote."""
    form = HandOffForm.reviewed({key: "1", "pickup_code": "SC1"}, require_id=False)
    assert not any(name.startswith("reject_") for name in form.fields)
    assert "reject_7" in HandOffForm.reviewed({"reject_7": "1"}, require_id=False).fields
