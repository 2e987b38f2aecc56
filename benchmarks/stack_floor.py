"""What the serving stack costs before Shelfcall does anything: the ceiling the HTTP budgets meet.

Two uvicorn processes started as `shelfcall serve` starts them (one ASGI process each, access log
off), behind Debian's nginx running the shipped deploy/nginx.conf, driven by the same load generator
as web_lifecycle.py and http_lifecycle.py (httpx.AsyncClient lanes on this machine). The app is
benchmarks/_floor_app.py: `--app raw` a bare ASGI callable, `--app django` a Django project of one
sync view with no middleware, no apps and no database (`--app django-async`: the view is async).
Every response is a page of `--body-bytes` HTML (the workspace's order page is about 12 KB before
compression). `--wrk` drives the same requests with Debian's wrk (`apt-get install wrk`, one
thread) instead, to show the servers' own ceiling when the load generator costs next to nothing.

It prints requests/s and CPU per request split into the serving processes, nginx and the load
generator, then the orders/s that would be the ceiling if a page or an API call cost no more than
that: requests/s ÷ 20 pages per order (web_lifecycle.py), ÷ 7 calls per order (http_lifecycle.py's
two-line order: create, claim, 2 picks, ready, pay, hand off). No database is involved.

  .venv/bin/python benchmarks/stack_floor.py --app django
  .venv/bin/python benchmarks/stack_floor.py --app raw
  .venv/bin/python benchmarks/stack_floor.py --app django --wrk
"""

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import MACHINE_NOTE, VENV_BIN
from _server import free_port, process_group_cpu_seconds, start_command, start_nginx, stop_server

PAGES_PER_ORDER = 20
API_CALLS_PER_ORDER = 7


def start_app(app: str, port: int, folder: Path, body_bytes: int):
    target = "_floor_app:raw" if app == "raw" else "_floor_app:django"
    here = str(Path(__file__).parent)
    code = (
        f"import sys, uvicorn; sys.path.insert(0, {here!r}); "
        f"uvicorn.run({target!r}, factory={app != 'raw'!r}, host='127.0.0.1', port={port}, workers=1, "
        "proxy_headers=False, log_level='warning', timeout_graceful_shutdown=5)"
    )
    env = {"FLOOR_BODY_BYTES": str(body_bytes), "FLOOR_ASYNC_VIEW": "1" if app == "django-async" else ""}
    return start_command([str(VENV_BIN / "python"), "-c", code], env, folder / f"app-{port}.log")


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port} within 30 s")


async def drive(base: str, lanes: int, seconds: float) -> tuple[int, list[float]]:
    done, latencies = 0, []
    stop_at = time.perf_counter() + seconds

    async def lane() -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.get("/w/orders/1")
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
                done += 1

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return done, latencies


def drive_with_wrk(base: str, lanes: int, seconds: float) -> tuple[int, list[float], float]:
    """wrk's count, its median latency and its own CPU (user + system of the finished child)."""
    children_before = sum(os.times()[2:4])
    argv = ["wrk", "-t1", f"-c{lanes}", f"-d{seconds:.0f}s", "--latency", f"{base}/w/orders/1"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    done = int(re.search(r"(\d+) requests in", out).group(1))
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()
    median = float(value) / {"us": 1e6, "ms": 1e3, "s": 1}[unit]
    return done, [median], sum(os.times()[2:4]) - children_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", choices=["raw", "django", "django-async"], default="django")
    parser.add_argument("--clients", type=int, default=8, help="concurrent lanes, as web_lifecycle.py's 8 clients")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time (after 3 s of warm-up)")
    parser.add_argument("--body-bytes", type=int, default=12000)
    parser.add_argument("--wrk", action="store_true", help="Debian's wrk as the load generator, not httpx")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="shelfcall-floor-"))
    ports = [free_port(), free_port()]
    apps = [start_app(args.app, port, folder, args.body_bytes) for port in ports]
    nginx = None
    try:
        for port in ports:
            wait_for(port)
        listen = free_port()
        nginx = start_nginx(folder / "nginx", ports, listen)
        base = f"http://127.0.0.1:{listen}"
        if args.wrk and not shutil.which("wrk"):
            raise SystemExit("--wrk: needs Debian's wrk (apt-get install wrk)")
        asyncio.run(drive(base, args.clients, 3.0))
        groups = {
            "serving processes": lambda: sum(process_group_cpu_seconds(app.pid) for app in apps),
            "nginx": lambda: process_group_cpu_seconds(nginx.pid),
        }
        if not args.wrk:
            groups["load generator"] = lambda: sum(os.times()[:2])
        before = {name: read() for name, read in groups.items()}
        started = time.perf_counter()
        if args.wrk:
            done, latencies, wrk_cpu = drive_with_wrk(base, args.clients, args.seconds)
        else:
            done, latencies = asyncio.run(drive(base, args.clients, args.seconds))
        elapsed = time.perf_counter() - started
        cpu = {name: read() - before[name] for name, read in groups.items()}
        if args.wrk:
            cpu["load generator (wrk)"] = wrk_cpu
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        for app in apps:
            stop_server(app)

    rate = done / elapsed
    latencies.sort()
    print(MACHINE_NOTE)
    generator = "wrk" if args.wrk else "httpx"
    print(
        f"app {args.app}: 2 uvicorn processes behind deploy/nginx.conf, {args.clients} {generator} lanes, "
        f"{args.body_bytes} B pages"
    )
    median = 1000 * latencies[len(latencies) // 2]
    print(f"{done} requests in {elapsed:.1f} s = {rate:.0f} requests/s; p50 {median:.1f} ms")
    parts = ", ".join(f"{name} {1000 * seconds / done:.2f}" for name, seconds in cpu.items())
    print(f"CPU per request: {1000 * sum(cpu.values()) / done:.2f} ms = {parts} (ms)")
    print(
        f"ceiling if every request cost only this: {rate / PAGES_PER_ORDER:.1f} orders/s through the pages "
        f"({PAGES_PER_ORDER} an order), {rate / API_CALLS_PER_ORDER:.1f} orders/s through the API "
        f"({API_CALLS_PER_ORDER} calls an order)"
    )
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
