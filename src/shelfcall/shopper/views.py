"""The shopper's pages: no login; the showcase code and the order token are the only keys."""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shelfcall.catalog.models import Showcase
from shelfcall.catalog.queries import find_item, find_showcase, list_offers
from shelfcall.core import throttle
from shelfcall.core.clients import address_key
from shelfcall.core.numbers import parse_number
from shelfcall.core.throttle import Limit, Rate, throttled_by
from shelfcall.live.sse import off_loop, stream_response
from shelfcall.orders import actions
from shelfcall.orders.errors import CartProblems, LineProblem, OrderError
from shelfcall.orders.events import SHOPPER
from shelfcall.orders.models import OPEN_STATUSES, Order
from shelfcall.orders.queries import find_order_by_token
from shelfcall.printing.views import sign_downloads
from shelfcall.shopper.cart import MAX_LINES, Cart, cart_rows
from shelfcall.shopper.codes import qr_svg
from shelfcall.shopper.devices import device_id, ensure_device, newcomer_key
from shelfcall.shopper.forms import ContactForm, QuantityForm
from shelfcall.shopper.status import StatusPoll, panel_context
from shelfcall.stores.models import Store

# Generous for a shop floor behind one public IP, tight for a script guessing tokens.
PAGE_RATE = Rate("shopper.page", 240, 60)

# Each shopper request counts three ways: per device, sized for one shopper; per address, far above
# that (a store's Wi-Fi or a carrier's gateway puts hundreds of shoppers behind one address); and
# requests without a device (first steps, or a script dropping its cookie) together per address, so
# a client over its own limit cannot start afresh by dropping the cookie. Pages are read by shoppers
# who never store anything (no device), hence a roomy share for them; a step that stores something
# without a device is a newcomer's first (and makes a session), a few a second at most per
# address; a submit needs a cart, hence a device: without one, 20 an hour per address is plenty.
PAGE_LIMITS = (
    Limit(Rate("shopper.page.device", 240, 60), device_id),
    Limit(Rate("shopper.page.newcomers", 1200, 60), newcomer_key),
    Limit(Rate("shopper.page.address", 6000, 60), address_key),
)
STEP_LIMITS = (
    Limit(Rate("shopper.step.device", 240, 60), device_id),
    Limit(Rate("shopper.step.newcomers", 60, 60), newcomer_key),
    Limit(Rate("shopper.step.address", 6000, 60), address_key),
)
SUBMIT_LIMITS = (
    Limit(Rate("shopper.submit.device", 20, 3600), device_id),
    Limit(Rate("shopper.submit.newcomers", 20, 3600), newcomer_key),
    Limit(Rate("shopper.submit.address", 1000, 3600), address_key),
)
# Details of an arrival (moved the car) may change a few times; each change alerts the team.
CHECK_INS_PER_ORDER = Rate("shopper.check_in.order", 10, 3600)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "shopper/rate_limited.html", status=429)


def _open_showcase(request: HttpRequest, code: str) -> Showcase:
    showcase = find_showcase(code)
    if showcase is None or not showcase.active:
        raise ShowcaseUnavailable(showcase.store if showcase else None)
    timezone.activate(showcase.store.timezone)
    return showcase


class ShowcaseUnavailable(Http404):
    def __init__(self, store: Store | None) -> None:
        super().__init__("showcase unavailable")
        self.store = store


def _unavailable(request: HttpRequest, error: ShowcaseUnavailable) -> HttpResponse:
    store = error.store or (Store.objects.first() if Store.objects.count() == 1 else None)
    return render(request, "shopper/showcase_unavailable.html", {"store": store}, status=404)


def _showcase_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn an unknown or switched-off showcase into the friendly 404 page with the store's help text."""

    @wraps(view)  # its qualified name too: each view's rate limits count on their own
    def wrapped(request: HttpRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, code, *args, **kwargs)
        except ShowcaseUnavailable as error:
            return _unavailable(request, error)

    return wrapped


@require_GET
@throttled_by(*PAGE_LIMITS)
@_showcase_page
def showcase_page(request: HttpRequest, code: str) -> HttpResponse:
    showcase = _open_showcase(request, code)
    cart = Cart(request.session, showcase.code)
    offers = [(offer, cart.qty_of(offer.product.pk)) for offer in list_offers(showcase)]
    my_orders = Order.objects.filter(
        store=showcase.store, public_token__in=request.session.get("orders", []), status__in=OPEN_STATUSES
    ).order_by("-pk")
    return render(
        request,
        "shopper/showcase.html",
        {
            "showcase": showcase,
            "store": showcase.store,
            "offers": offers,
            "cart": cart,
            "my_orders": my_orders,
        },
    )


@require_POST
@throttled_by(*STEP_LIMITS)
@_showcase_page
def add_to_cart(request: HttpRequest, code: str) -> HttpResponse:
    showcase = _open_showcase(request, code)
    cart = Cart(request.session, showcase.code)
    product_id = parse_number(request.POST.get("product", ""))
    offers = list_offers(showcase, [product_id]) if product_id is not None else []
    offer = next((offer for offer in offers if offer.available), None)
    if offer is None:
        messages.error(request, _("That item is not available right now."))
    elif cart.qty_of(offer.product.pk) >= min(offer.available, showcase.store.max_line_qty):
        messages.error(
            request,
            _("You already have as many of %(name)s as you can request.") % {"name": offer.product.name},
        )
    elif not cart.has_room_for(offer.product.pk):
        _say_cart_is_full(request)
    else:
        ensure_device(request)
        cart.add(offer.product)
        messages.success(request, _("%(name)s added to your cart.") % {"name": offer.product.name})
    if request.POST.get("next") == "cart":
        return redirect("shopper:cart", showcase.code)
    anchor = f"#p{product_id}" if product_id is not None else ""
    return redirect(reverse("shopper:showcase", args=[showcase.code]) + anchor)


@require_GET
@throttled_by(*STEP_LIMITS)
def product_link(request: HttpRequest, code: str) -> HttpResponse:
    """The per-product QR: put exactly this product in the showcase's cart and open the cart."""
    item = find_item(code)
    if item is None or not item.active or not item.showcase.active or not item.product.active:
        return _unavailable(request, ShowcaseUnavailable(item.showcase.store if item else None))
    cart = Cart(request.session, item.showcase.code)
    if not cart.has_room_for(item.product_id):
        _say_cart_is_full(request)
    elif not cart.qty_of(item.product_id):
        ensure_device(request)
        cart.add(item.product)
    return redirect("shopper:cart", item.showcase.code)


def _say_cart_is_full(request: HttpRequest) -> None:
    messages.error(
        request,
        _("Your cart holds %(max)d different items, the most it can. Send it or remove an item first.")
        % {"max": MAX_LINES},
    )


@require_GET
@throttled_by(*PAGE_LIMITS)
@_showcase_page
def cart_page(request: HttpRequest, code: str) -> HttpResponse:
    showcase = _open_showcase(request, code)
    return _render_cart(request, showcase, ContactForm(store=showcase.store, initial=request.session.get("contact")))


def _render_cart(
    request: HttpRequest,
    showcase: Showcase,
    form: ContactForm,
    problems: Iterable[LineProblem] = (),
    status: int = 200,
) -> HttpResponse:
    cart = Cart(request.session, showcase.code)
    rows = cart_rows(showcase, cart, list(problems))
    return render(
        request,
        "shopper/cart.html",
        {
            "showcase": showcase,
            "store": showcase.store,
            "cart": cart,
            "rows": rows,
            "total": sum((row.line_total for row in rows), 0),
            "blocked": any(row.problem for row in rows),
            "form": form,
            "max_line_qty": showcase.store.max_line_qty,
        },
        status=status,
    )


@require_POST
@throttled_by(*STEP_LIMITS)
@_showcase_page
def change_line(request: HttpRequest, code: str, product_id: int) -> HttpResponse:
    showcase = _open_showcase(request, code)
    cart = Cart(request.session, showcase.code)
    action = request.POST.get("action", "set")
    if action == "remove":
        cart.remove(product_id)
    elif action == "accept_price":
        offer = next(iter(list_offers(showcase, [product_id])), None)
        if offer:
            cart.accept_price(offer.product)
    else:
        form = QuantityForm(request.POST, max_qty=showcase.store.max_line_qty)
        if form.is_valid():
            cart.set_qty(product_id, form.cleaned_data["qty"])
        else:
            messages.error(request, str(form.errors["qty"][0]))
    return redirect("shopper:cart", showcase.code)


@require_POST
@throttled_by(*SUBMIT_LIMITS)
@_showcase_page
def submit(request: HttpRequest, code: str) -> HttpResponse:
    showcase = _open_showcase(request, code)
    cart = Cart(request.session, showcase.code)
    form = ContactForm(request.POST, store=showcase.store)
    # The key rendered into the form, not the session's: a second click after the first succeeded
    # finds an emptied cart, but the same key, and so lands on the same order.
    key = request.POST.get("submission_key", "")[:64] or cart.submission_key
    if not form.is_valid():
        return _render_cart(request, showcase, form, status=400)
    request.session["contact"] = form.cleaned_data
    try:
        order = actions.submit_showcase_order(
            showcase,
            cart.as_order_lines(),
            contact=form.contact(),
            submission_key=key,
            device_id=device_id(request) or "",
            client_address=address_key(request),
            locale=translation.get_language(),
        )
    except CartProblems as problems:
        messages.error(request, problems.message)
        return _render_cart(request, showcase, form, problems.problems, status=409)
    except OrderError as error:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
        else:
            messages.error(request, error.message)
        return _render_cart(request, showcase, form, status=409)
    cart.start_over()
    _remember_order(request, order)
    return redirect("shopper:status", order.public_token)


def _remember_order(request: HttpRequest, order: Order) -> None:
    """The showcase page links back to the shopper's open requests, so a closed tab loses nothing."""
    tokens = [order.public_token, *request.session.get("orders", [])]
    request.session["orders"] = tokens[:10]


def _order_or_404(token: str) -> Order:
    order = find_order_by_token(token)
    if order is None:
        raise Http404("no such order")
    timezone.activate(order.store.timezone)
    return order


@require_GET
@never_cache  # back/forward must never show a stale state of the order
@throttled_by(*PAGE_LIMITS)
def status_page(request: HttpRequest, token: str) -> HttpResponse:
    order = _order_or_404(token)
    context = panel_context(order) | {"store": order.store, "last_event_id": order.last_event_id or 0}  # type: ignore[attr-defined]  # queries.find_order_by_token
    return render(request, "shopper/status.html", context)


@require_http_methods(["GET", "POST"])
@throttled_by(*PAGE_LIMITS)
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel asks first (GET shows the question), then cancels on POST."""
    order = _order_or_404(token)
    if request.method == "GET":
        return render(request, "shopper/cancel.html", {"order": order, "store": order.store})
    try:
        actions.cancel_order(order.pk, by=SHOPPER)
        messages.success(request, _("Your request is cancelled. Nothing was charged."))
    except OrderError as error:
        messages.error(request, error.message)
    return redirect("shopper:status", token)


@require_POST
@throttled_by(*STEP_LIMITS)
def check_in(request: HttpRequest, token: str) -> HttpResponse:
    """I'm here: in the store, or outside with where they parked."""
    order = _order_or_404(token)
    throttle.check(CHECK_INS_PER_ORDER, f"order:{order.pk}")
    try:
        actions.check_in(order.pk, mode=request.POST.get("mode", ""), note=request.POST.get("note", ""))
        messages.success(request, _("Thanks! The team knows you're here."))
    except OrderError as error:
        messages.error(request, error.message)
    return redirect("shopper:status", token)


@require_POST
@throttled_by(*STEP_LIMITS)
def answer_substitute(request: HttpRequest, token: str, line_id: int) -> HttpResponse:
    """Yes or no to a product offered instead of one not found; a second tap changes nothing."""
    order = _order_or_404(token)
    answer = request.POST.get("answer", "")
    if answer not in ("accept", "decline"):
        messages.error(request, _("Choose 'Yes, add it' or 'No, thanks'."))
        return redirect("shopper:status", token)
    try:
        line = actions.answer_substitute(order.pk, line_id, accept=answer == "accept", by=SHOPPER)
        if answer == "accept":
            messages.success(request, _("Thanks! %(name)s is added to your order.") % {"name": line.name})
        else:
            messages.success(request, _("Thanks! We left %(name)s out.") % {"name": line.name})
    except OrderError as error:
        messages.error(request, error.message)
    return redirect("shopper:status", token)


async def status_events(request: HttpRequest, token: str) -> HttpResponseBase:
    def open_stream() -> Order | None:
        throttle.check(PAGE_RATE, f"shopper.status_events:{address_key(request)}")
        return find_order_by_token(token)

    try:
        order = await off_loop(open_stream)()
    except throttle.Throttled as refusal:
        return HttpResponse(status=429, headers={"Retry-After": str(refusal.retry_after)})
    if order is None:
        raise Http404("no such order")
    poll = StatusPoll(
        order, translation.get_language(), get_token(request), shown_ahead=parse_number(request.GET.get("ahead", ""))
    )
    return stream_response(request, poll.topics, poll, holder=f"order:{token}")


@require_GET
@throttled_by(*PAGE_LIMITS)
@_showcase_page
def sign(request: HttpRequest, code: str) -> HttpResponse:
    """The printable QR sign for a showcase."""
    showcase = _open_showcase(request, code)
    path = reverse("shopper:showcase", args=[showcase.code])
    url = f"{settings.BASE_URL}{path}" if settings.BASE_URL else request.build_absolute_uri(path)
    return render(
        request,
        "shopper/sign.html",
        {
            "showcase": showcase,
            "store": showcase.store,
            "url": url,
            "qr": qr_svg(url),
            "downloads": sign_downloads(request, showcase),
        },
    )
