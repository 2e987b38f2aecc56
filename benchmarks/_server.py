"""A `shelfcall serve` subprocess for the benchmarks that measure over HTTP: start, wait, stop, CPU used."""

import contextlib
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import REPO, VENV_BIN, end_run

SERVER_START_LIMIT_S = 60.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    env: dict[str, str], port: int, log_path: Path, command: str = "", workers: int = 1
) -> subprocess.Popen:
    """`command` replaces `shelfcall serve` ({port} and {python} are filled in), to try a candidate fix."""
    if command:
        argv = shlex.split(command.format(port=port, python=sys.executable))
    else:
        argv = [str(VENV_BIN / "shelfcall"), "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(workers)]
    return start_command(argv, env, log_path)


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`shelfcall worker` (messages and timers), as production runs it beside `serve` on PostgreSQL."""
    return start_command([str(VENV_BIN / "shelfcall"), "worker"], env, log_path)


def start_command(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv,
            env=os.environ | env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl+C here reaches the server only through our own cleanup
        )


def wait_until_serving(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + SERVER_START_LIMIT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        with contextlib.suppress(httpx.TransportError):
            # Not token-shaped: answered 404 without a database query once the app is up.
            if httpx.get(f"http://127.0.0.1:{port}/o/not-a-token/events", timeout=2).status_code == 404:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer within {SERVER_START_LIMIT_S:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def process_group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in the server's group (supervisor and serving processes)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, …
                total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return total


def finish_run(server: subprocess.Popen | None, log_path: Path, db_name: str, *, keep_log: bool, began: float) -> None:
    """Stop the server (naming the errors its log shows), drop the database, remove or keep the data folder."""
    if server is not None:
        stop_server(server)
        errors = [line for line in log_path.read_text(errors="replace").splitlines() if "Error" in line]
        if errors:
            print(f"server log: {len(errors)} error lines; last: {errors[-1][:240]}")
    if keep_log:
        print(f"server log kept: {log_path}")
    end_run(db_name, None if keep_log else log_path.parent, began)


def start_nginx(folder: Path, upstream_ports: list[int], port: int, **main: int) -> subprocess.Popen:
    """Debian's nginx with the shipped deploy/nginx.conf in front of `upstream_ports`, listening on `port`.

    The site file is wrapped as the nginx test wraps it (tests/support/nginx.py, everything inside `folder`;
    `main` sets workers, connections, rlimit); only its upstream servers and listening port change.
    Returns once nginx answers on `port`."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the tests' package, for the one wrapping of the site file
    from tests.support.nginx import write_config

    argv = write_config(folder, upstream_ports, port, **main)
    subprocess.run([*argv, "-t", "-q"], check=True)
    nginx = subprocess.Popen(argv, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return nginx
        time.sleep(0.1)
    nginx.kill()
    raise RuntimeError("nginx did not answer within 10 s")


def pid_tree_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their children still alive (psutil)."""
    import psutil

    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            for member in [process, *process.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = member.cpu_times()
                    total += times.user + times.system
    return total
