"""Real `shelfcall` server processes for tests of what only shows across processes: start-up races,
connection limits. Each is stopped (SIGTERM, then SIGKILL) when the test ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(data_dir: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """The test run's environment for a server of its own: its data directory, its database
    (SQLite in the data directory when none is given), a key it generates itself, one process."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "SHELFCALL_SECRET_KEY"}}
    # One serving process unless a test asks for more (`--workers`): the machine is shared.
    env.update(SHELFCALL_DATA_DIR=str(data_dir), SHELFCALL_LOG_LEVEL="WARNING", SHELFCALL_WEB_PROCESSES="1")
    env.update(settings)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


class Server:
    def __init__(self, command: str, env: dict[str, str], *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = Path(env["SHELFCALL_DATA_DIR"]) / f"server-{self.port}.log"
        with self._log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shelfcall.cli", command, "--port", str(self.port), *extra],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self._log.read_text()

    def is_up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/w/login", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def wait_until_up(servers: list[Server], timeout: float = 90) -> None:
    """Every server answers its login page with 200; one that exits fails the test with its output."""
    deadline = time.monotonic() + timeout
    waiting = list(servers)
    while waiting:
        for server in list(waiting):
            if server.process.poll() is not None:
                code = server.process.returncode
                raise AssertionError(f"server on {server.port} exited with {code}:\n{server.output()}")
            if server.is_up():
                waiting.remove(server)
        if waiting:
            assert time.monotonic() < deadline, "not up in time:\n" + "\n".join(s.output() for s in waiting)
            time.sleep(0.1)


@contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        wait_until_up(servers)
        yield servers
    finally:
        for server in servers:
            server.stop()


def manage_shell(env: dict[str, str], script: str) -> str:
    command = [sys.executable, "-m", "shelfcall.cli", "manage", "shell", "-c", script]
    return subprocess.run(command, env=env, check=True, timeout=120, capture_output=True, text=True).stdout


class Stream:
    """A live stream read on a thread of its own; `text` grows with what arrives."""

    def __init__(self, stack: ExitStack, url: str) -> None:
        self.text = ""
        self.opened = threading.Event()
        client = stack.enter_context(httpx.Client(timeout=30))
        self._response = stack.enter_context(client.stream("GET", url))
        assert self._response.status_code == 200
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for chunk in self._response.iter_text():
                self.text += chunk
                self.opened.set()
        except httpx.HTTPError:
            pass  # closed at the end of the test
