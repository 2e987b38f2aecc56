"""Django's database sessions, one read fewer: a new session's key is not looked up before it is written.

Django draws a key, asks the database whether it is taken, then INSERTs the session. The INSERT of a
new session already fails on a taken key (the key is the primary key), and `create` then draws
another, so the look-up only costs a statement on every new shopper and every sign-in."""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string

KEY_LENGTH = 32  # Django's: 32 characters of 36, 165 random bits


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(KEY_LENGTH, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()
