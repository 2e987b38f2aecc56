"""A real HTTP server in the test process that records what it receives and answers as told."""

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# What webhook channels in the tests sign with, unless a test says otherwise.
TEST_WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # Standard Webhooks deliveries (a webhook-id header): whether the standardwebhooks package
    # verified the signature with one of the receiver's secrets. None: not a webhook.
    verified: bool | None = None
    received_at: float = field(default_factory=time.time)  # wall clock, comparable with the database's times

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Answers to give, in order; the last one repeats. (status, delay in seconds)
    answers: list[tuple[int, float]] = field(default_factory=lambda: [(200, 0.0)])
    webhook_secrets: list[str] = field(default_factory=lambda: [TEST_WEBHOOK_SECRET])

    def answer_next(self) -> tuple[int, float]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def verify_webhook(body: bytes, headers: dict[str, str], secrets: list[str]) -> bool:
    """As a receiver using the reference Standard Webhooks library would check it."""
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            continue
        return True
    return False


def start_receiver(
    *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None, name: str | None = None
) -> tuple[Receiver, ThreadingHTTPServer]:
    """Plain HTTP on 127.0.0.1 by default; with `tls`, HTTPS on `host`, its URL naming `name`."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = verify_webhook(body, headers, receiver.webhook_secrets) if "webhook-id" in headers else None
            receiver.received.append(Received(self.path, headers, body, verified))
            status, delay = receiver.answer_next()
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"1" if status < 300 else b"error from receiver")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    receiver.url = f"{scheme}://{name or host}:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
