"""Secrets never reach the logs: a logging filter for every handler Shelfcall and uvicorn print with.

- URLs keep only their scheme and host: a Slack or Teams webhook URL is itself the credential, and
  any receiver's path or query may be one.
- The token of a shopper's status page (/o/<token>, as in uvicorn's access log and Django's warnings
  about 4xx answers) is left out: whoever has it sees the order and can cancel it.
"""

import logging
import re

URL = re.compile(r"(?P<origin>\bhttps?://[^/\s\"'?#]+)(?P<rest>[/?#][^\s\"']*)?")
STATUS_PAGE = re.compile(r"(?<![^\s\"'])/o/[^/\s\"'?#]+")
HIDDEN = "…"


def redact(text: str) -> str:
    text = URL.sub(lambda match: match["origin"] + (f"/{HIDDEN}" if match["rest"] else ""), text)
    return STATUS_PAGE.sub(f"/o/{HIDDEN}", text)


class RedactSecrets(logging.Filter):
    """Redacts the message and each of its arguments in place, keeping the arguments' shape (uvicorn's
    access formatter reads them one by one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(arg) for key, arg in record.args.items()}
        return True


def _redacted(arg: object) -> object:
    if isinstance(arg, int | float) or arg is None:
        return arg  # numbers stay numbers for %d
    text = str(arg)
    redacted = redact(text)
    return arg if redacted == text else redacted
