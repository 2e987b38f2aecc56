import os

from shelfcall.catalog.uploads import App, limit_uploads
from shelfcall.live.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfcall.settings")
# Django's handler, except that live streams (async views) get no thread each, and catalogue uploads
# past their limit are refused before they are read.
application = limit_uploads(get_asgi_application())


def serving_process() -> App:
    """The application as `shelfcall serve` runs it, called once in each serving process (uvicorn's
    factory): what belongs to one process (the collector's thread) starts there, never in a
    supervisor that only watches them. The pool and the LISTEN connection open at first use."""
    from django.conf import settings

    from shelfcall.core import collector

    collector.start_in_background(settings.SHELFCALL_GC_FREEZE_SECONDS)
    return application
