"""The serving stack with nothing of Shelfcall in it, for stack_floor.py: `raw` is a bare ASGI
callable, `django` a Django project of one sync view and no middleware, no apps and no database.

Both answer every path with FLOOR_BODY_BYTES of HTML (and /healthz, which start_nginx waits for)."""

import os

BODY = ("<!doctype html><p>" + "x" * int(os.environ.get("FLOOR_BODY_BYTES", "12000"))).encode()
HEADERS = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(BODY)).encode())]


async def raw(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def django():
    """A factory, as `shelfcall serve` loads shelfcall.asgi:serving_process."""
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="stack-floor-benchmark-only-0123456789-0123456789",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_I18N=False,
    )
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


def page(request):
    from django.http import HttpResponse

    return HttpResponse(BODY)


async def async_page(request):
    """The same page from an async view: no hop to a worker thread (Shelfcall's pages are sync: the ORM is)."""
    return page(request)


def _urlpatterns():
    from django.urls import re_path

    return [re_path(r"", async_page if os.environ.get("FLOOR_ASYNC_VIEW") else page)]


def __getattr__(name: str):
    if name == "urlpatterns":  # read by Django's resolver only once settings are configured
        return _urlpatterns()
    raise AttributeError(name)
