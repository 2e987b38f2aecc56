"""Catalogue uploads past the limit are refused before their body is read.

Django's ASGI handler reads a request's whole body (to a temporary file) before any view runs, so a
200 MB upload would cost 200 MB of disk and the time to receive it before the view could say no. This
wrapper answers 413 at once when the declared length is past the limit, and stops reading a body sent
without one (chunked) as soon as it passes the limit. Other requests go straight through.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.utils import translation

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PREFIX = "/setup/catalogue/"
_SLACK = 1 << 16  # the multipart envelope around the file


def limit_uploads(app: App) -> App:
    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(UPLOAD_PREFIX):
            await app(scope, receive, send)
            return
        from shelfcall.catalog.csv_import import MAX_UPLOAD_BYTES

        limit = MAX_UPLOAD_BYTES + _SLACK
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        # bytes.isdigit() is ASCII only; a length of more digits than any limit is past it (int() refuses 4300)
        if declared.isdigit() and (len(declared) > len(str(limit)) or int(declared) > limit):
            await _refuse(send)
            return
        received, over, started = 0, False, False

        async def counted() -> Mapping[str, Any]:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}  # Django stops reading, and answers nothing
            return message

        async def watched(message: Mapping[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await app(scope, counted, watched)
        if over and not started:
            await _refuse(send)

    return limited


async def _refuse(send: Send) -> None:
    from django.conf import settings

    from shelfcall.catalog.csv_import import too_large_message

    with translation.override(settings.LANGUAGE_CODE):
        body = too_large_message().encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
