"""The root of every domain error. Domain errors know nothing of HTTP: the web and API layers map them."""

from django.db import InterfaceError, OperationalError

# The database is down, restarting or unreachable (not a bug in a query): worth retrying in a moment.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


class ShelfcallError(Exception):
    """A refusal the user can act on. `code` is stable for API clients; the message is translated."""

    code: str = "error"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0])
