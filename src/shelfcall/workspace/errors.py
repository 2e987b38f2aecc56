"""How the workspace shows a domain refusal, in one place: the views never catch them one by one."""

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from shelfcall.core.errors import ShelfcallError


@contextmanager
def refusal_shown(request: HttpRequest, form: forms.Form | None = None) -> Iterator[None]:
    """A domain refusal in the block is shown instead of raised: on `form`, beside the field it names,
    or else as the next page's error message. The view carries on after the block (say, to redirect
    back to the order as it is now)."""
    try:
        yield
    except ShelfcallError as error:
        if form is not None:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.error(request, error.message)
