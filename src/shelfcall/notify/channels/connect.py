"""How a channel's HTTP call reaches the network: only to checked addresses, and within one deadline.

httpcore (under httpx) asks its network backend for a connection to the URL's host name; this one
connects to the addresses netguard checked instead, so a second DNS answer cannot send it elsewhere.
TLS still runs on top with the URL's host name, so the certificate is verified against the name.

The send's deadline starts before the host name is resolved (netguard.checked_addresses gets the
time left). Every connect, TLS handshake, read and write gets the time left before it at most:
httpx's timeouts are per operation, and a receiver answering one byte at a time never trips them.
"""

import time
from collections.abc import Iterable
from typing import Any

import httpcore

WRITE_PIECE = 16 * 1024  # a slow reader can make each piece take up to the time left, not the whole body


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def left(self) -> float:
        return max(self.at - time.monotonic(), 0.0)

    def limit(self, timeout: float | None, expired: type[httpcore.TimeoutException]) -> float:
        left = self.left()
        if not left:
            raise expired("the send's deadline passed")
        return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.limit(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), WRITE_PIECE):
            piece = buffer[start : start + WRITE_PIECE]
            self._stream.write(piece, self._deadline.limit(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(
            ssl_context, server_hostname, self._deadline.limit(timeout, httpcore.ConnectTimeout)
        )
        return DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class CheckedBackend(httpcore.SyncBackend):
    """Connects to the given addresses (in order, as socket.create_connection would), never to a name."""

    def __init__(self, addresses: list[str], deadline: Deadline) -> None:
        self._addresses = addresses
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception = httpcore.ConnectError(f"no address to connect to for {host}")
        for address in self._addresses:
            try:
                stream = super().connect_tcp(
                    address, port, self._deadline.limit(timeout, httpcore.ConnectTimeout), local_address, socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
                continue
            return DeadlineStream(stream, self._deadline)
        raise failure
