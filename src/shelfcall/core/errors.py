"""The root of every domain error. Each knows the HTTP status it stands for; the web and API layers map
them to their own answers once (api/responses.py, workspace/errors.py)."""

from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError

# The database is down, restarting or unreachable (not a bug in a query): worth retrying in a moment.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


class ShelfcallError(Exception):
    """A refusal the user can act on. `code` is stable for API clients; the message is translated.

    `status` is the HTTP status the API answers with: 409 for a conflict with the order's state, 404 for
    what does not exist, 429 for too many attempts, 422 (the default) for input to correct."""

    code: str = "error"
    status: int = 422
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0])


class RefusedRequest(BadRequest):
    """A request no view should see, refused with a 400 that says what to fix (core/views.bad_request).
    Django answers BadRequest raised anywhere, a middleware included, through handler400."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field
