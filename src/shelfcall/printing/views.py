"""The sign PDFs, for the staff of the store they belong to (stores.policy, Perm.PRINT_SIGNS); and the
download links the public HTML preview (shopper's `s/<code>/sign`) shows them."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shelfcall.catalog.models import Showcase
from shelfcall.catalog.queries import find_item, find_showcase
from shelfcall.core import throttle
from shelfcall.core.errors import ShelfcallError
from shelfcall.core.throttle import Rate
from shelfcall.printing.pages import PAGE_SIZES, PageSize, get_page_size
from shelfcall.printing.responses import pdf_response
from shelfcall.printing.signs import Sign, product_sign, render_signs, showcase_sign, store_signs
from shelfcall.printing.text import parse_languages
from shelfcall.stores import policy
from shelfcall.stores.models import Store

# A store's whole set takes a second or more of a core: plenty for anyone printing, not for a loop.
PRINT_RATE = Rate("printing.signs", 30, 60)
# A page takes about 60 ms of a core: at most this many in one PDF, and this many a minute per store
# (counted by the PAGES_PER_HIT), so no one, however many accounts they use, keeps a core busy printing.
MAX_PAGES = 200
PAGES_PER_HIT = 20
STORE_PAGE_RATE = Rate("printing.store_pages", 600 // PAGES_PER_HIT, 60)


class TooManySigns(ShelfcallError):
    code = "too_many_signs"
    status = 400


def _count_pages(store: Store, pages: int) -> None:
    if pages > MAX_PAGES:
        raise TooManySigns(
            _("That is %(count)s signs, more than %(max)s in one PDF: print them showcase by showcase.")
            % {"count": pages, "max": MAX_PAGES}
        )
    for _hit in range(-(-pages // PAGES_PER_HIT)):
        throttle.check(STORE_PAGE_RATE, f"store:{store.pk}")


def default_languages(store: Store) -> list[str]:
    """Every language the shopper pages offer, the store's own first (it prints largest)."""
    return parse_languages([store.language, *(code for code, _name in settings.LANGUAGES)])


def _root(request: HttpRequest) -> str:
    """The site's address that the QR codes and short URLs print, e.g. https://shop.example.com."""
    return settings.BASE_URL or f"{request.scheme}://{request.get_host()}"


def _refusal(error: ShelfcallError) -> HttpResponse:
    text = f"{error.field}: {error.message}" if error.field else error.message
    return HttpResponse(text, status=error.status, content_type="text/plain; charset=utf-8")


def _pdf_response(request: HttpRequest, store: Store, make_signs: Callable[[], list[Sign]], name: str) -> HttpResponse:
    """Check who asks, read `size` and `lang` from the query, make the signs and answer their PDF."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), "workspace:login")
    policy.require(request.user, policy.Perm.PRINT_SIGNS, store)
    throttle.check(PRINT_RATE, f"user:{request.user.pk}")
    try:
        size = get_page_size(request.GET.get("size", "a4"))
        languages = parse_languages(request.GET.getlist("lang")) or default_languages(store)
        signs = make_signs()
        if not signs:
            return HttpResponse(
                _("%(store)s has no showcase switched on: add one, then print its signs.") % {"store": store.name},
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        _count_pages(store, len(signs))
        data = render_signs(store, signs, size, languages, title=f"{store.name} · {name}")
    except ShelfcallError as error:
        return _refusal(error)
    return pdf_response(data, "".join(c if c.isalnum() else "-" for c in name), size.slug)


@require_GET
def showcase_sign_pdf(request: HttpRequest, code: str) -> HttpResponse:
    showcase = find_showcase(code)
    if showcase is None:
        raise Http404("no such showcase")
    return _pdf_response(request, showcase.store, lambda: [showcase_sign(showcase, _root(request))], showcase.code)


@require_GET
def product_sign_pdf(request: HttpRequest, code: str) -> HttpResponse:
    item = find_item(code)
    if item is None:
        raise Http404("no such product QR")
    return _pdf_response(request, item.showcase.store, lambda: [product_sign(item, _root(request))], item.code)


@require_GET
def store_signs_pdf(request: HttpRequest, store_id: int) -> HttpResponse:
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise Http404("no such store")
    return _pdf_response(request, store, lambda: store_signs(store, _root(request)), store.slug)


# --- The preview's links -------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    size: PageSize
    url: str


@dataclass(frozen=True)
class SignDownloads:
    """What the preview offers staff: this showcase's sign, each of its products', the whole store's."""

    showcase: list[Download]
    products: list[tuple[str, list[Download]]]
    store: list[Download]
    languages: list[str]


def _downloads(path: str, languages: list[str]) -> list[Download]:
    return [
        Download(size, f"{path}?{urlencode({'size': size.slug, 'lang': languages}, doseq=True)}")
        for size in PAGE_SIZES.values()
    ]


def sign_downloads(request: HttpRequest, showcase: Showcase) -> SignDownloads | None:
    """None for anyone who may not print the store's signs (shoppers: no query at all)."""
    if not policy.can(request.user, policy.Perm.PRINT_SIGNS, showcase.store):
        return None
    try:
        languages = parse_languages(request.GET.getlist("lang")) or default_languages(showcase.store)
    except ShelfcallError:
        languages = default_languages(showcase.store)
    items = showcase.items.filter(active=True, product__active=True).select_related("product")
    return SignDownloads(
        showcase=_downloads(reverse("shopper:sign_pdf", args=[showcase.code]), languages),
        products=[
            (item.product.name, _downloads(reverse("shopper:product_sign_pdf", args=[item.code]), languages))
            for item in items
        ],
        store=_downloads(reverse("shopper:store_signs_pdf", args=[showcase.store_id]), languages),
        languages=languages,
    )
