"""`shelfcall demo | serve | manage …`: the one command for retailers and developers."""

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfcall.settings")
    import django

    django.setup()


def _prepare(*, migrate: bool = True) -> None:
    """Safe for many processes starting at once (core/startup.py)."""
    from shelfcall.core import startup

    if migrate:
        startup.migrate()
    startup.collect_static()


def _serve(host: str, port: int, *, with_worker: bool, processes: int) -> None:
    import uvicorn

    if with_worker:
        from shelfcall.core.jobs.loop import start_in_background

        # Here, once: with several processes this is their supervisor, and the processes serve.
        start_in_background()

    uvicorn.run(
        "shelfcall.asgi:serving_process",
        factory=True,
        workers=processes,
        host=host,
        port=port,
        proxy_headers=False,  # forwarded headers are judged by core/clients.py, against trusted proxies
        timeout_graceful_shutdown=5,
        log_config=uvicorn_log_config(),
        log_level=os.environ.get("SHELFCALL_LOG_LEVEL", "info").lower(),
    )


def _share_metrics_between_processes() -> None:
    """Before anything imports prometheus-client: every serving process writes its figures where
    whichever process answers /metrics reads them all (ops/metrics.py)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = tempfile.mkdtemp(prefix="shelfcall-metrics-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def _serving_processes(asked: int | None) -> int:
    """One per core on PostgreSQL. One on SQLite: it takes one writer at a time, and its live
    updates and the embedded worker's wake-ups travel inside one process (there is no LISTEN)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if asked and asked > 1:
            print("SQLite serves from one process; --workers ignored (use PostgreSQL for more).", file=sys.stderr)
        return 1
    return asked or len(os.sched_getaffinity(0))


def _backup(options: argparse.Namespace) -> int:
    from shelfcall.ops import backup

    try:
        copied = backup.backup(options.to)
    except backup.BackupError as error:
        print(f"shelfcall backup: {error.message}", file=sys.stderr)
        return 2
    print(f"Backed up {copied.tables} tables ({copied.size_bytes:,} bytes) to {copied.path}")
    return 0


def _restore(options: argparse.Namespace) -> int:
    from shelfcall.ops import backup

    try:
        live = backup.live_database_path()
        if not options.yes and not _confirmed(
            f"Replace the database at {live} with {options.file}? Stop `shelfcall serve` first."
        ):
            print("Nothing was changed.", file=sys.stderr)
            return 1
        kept = backup.restore(options.file)
    except backup.BackupError as error:
        print(f"shelfcall restore: {error.message}", file=sys.stderr)
        return 2
    print(f"Restored {options.file}." + (f" The database it replaced is kept at {kept}." if kept else ""))
    return 0


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question}\nRun again with --yes to confirm.", file=sys.stderr)
        return False
    return input(f"{question} Type yes: ").strip().lower() == "yes"


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def uvicorn_log_config() -> dict:
    """uvicorn's own logging (its access log too), with secrets redacted as in Shelfcall's logs."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_secrets": {"()": "shelfcall.core.logs.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_secrets"]
    return config


def _embedded_worker(asked: bool | None) -> bool:
    from django.db import connection

    return asked if asked is not None else connection.vendor == "sqlite"


def _run_worker() -> None:
    import signal
    import threading

    from shelfcall.core.jobs.loop import run

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)


def _print_demo_urls(base: str) -> None:
    from shelfcall.api.demo import demo_api_keys
    from shelfcall.demo.seed import DEMO_PASSWORD, DEMO_PIN, seed_demo

    demo = seed_demo()
    api_keys = demo_api_keys(demo.store)
    first = demo.showcases[0]
    item = first.items.order_by("position").first()
    assert item is not None, "the demo's showcases have items"
    print(
        f"""
  Shelfcall demo is running: {demo.store.name}

  Shopper, showcase page   {base}/s/{first.code}
  Shopper, second showcase {base}/s/{demo.showcases[1].code}
  Shopper, product QR link {base}/p/{item.code}   ({item.product.name})
  Printable QR sign        {base}/s/{first.code}/sign
  Every sign as a PDF      {base}/stores/{demo.store.pk}/signs.pdf   (staff; ?size=a4, letter or label)
  Associate workspace      {base}/w/
  Till screen              {base}/w/till
  Admin                    {base}/admin/
  Integration API docs     {base}/api/v1/docs

  API key (till): {api_keys["till"]}
  API key (webshop): {api_keys["webshop"]}

  Staff logins (password "{DEMO_PASSWORD}"): admin (org admin), sam (supervisor), alex and jo (associates)
  Quick switch on a shared device (/w/switch): PIN {DEMO_PIN} for sam, alex and jo
  Stop with Ctrl+C.
""",
        flush=True,
    )


_SETUP_QUESTIONS = [
    ("organization", "Organization name (e.g. Hardware Hall Ltd)"),
    ("store", "First store's name (e.g. Hardware Hall Lyon)"),
    ("timezone", "Store's time zone (e.g. Europe/Paris)"),
    ("username", "First admin's username"),
    ("email", "First admin's email"),
]


def _setup(options: argparse.Namespace) -> int:
    """`shelfcall setup`: an organization, its first store and its first admin; asks for what no flag gave."""
    import getpass

    from django.core.exceptions import ValidationError

    from shelfcall.core import startup
    from shelfcall.setup.actions import create_first_store

    answers = {name: getattr(options, name) for name, _question in _SETUP_QUESTIONS}
    missing = [(name, question) for name, question in _SETUP_QUESTIONS if not answers[name]]
    password = os.environ.get("SHELFCALL_SETUP_PASSWORD", "")
    if (missing or not password) and not sys.stdin.isatty():
        needed = ", ".join(f"--{name}" for name, _question in missing) or "SHELFCALL_SETUP_PASSWORD"
        print(f"shelfcall setup: give {needed} (no terminal to ask on).", file=sys.stderr)
        return 2
    for name, question in missing:
        answers[name] = input(f"{question}: ").strip()
    while not password:
        password = getpass.getpass("First admin's password: ")
    if not options.no_migrate:
        startup.migrate()
    try:
        made = create_first_store(password=password, **answers)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            print(f"shelfcall setup: {field}: {' '.join(problems)}", file=sys.stderr)
        return 2
    base = os.environ.get("SHELFCALL_BASE_URL") or _base_url("localhost", 8000)
    print(
        f"Created {made.organization.name}, its store {made.store.name} and its admin {made.admin.username}.\n"
        f"Start the server (shelfcall serve), sign in and finish the setup at {base}/setup/stores/{made.store.pk}/"
    )
    return 0


def _base_url(host: str, port: int) -> str:
    shown = "localhost" if host in {"0.0.0.0", "127.0.0.1", "::"} else host  # noqa: S104
    return f"http://{shown}:{port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shelfcall", description="In-store order fulfilment.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [
        ("demo", "set up the embedded database with demo data, print its URLs, and serve"),
        ("serve", "apply migrations and serve the web app (ASGI)"),
    ]:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--host", default=os.environ.get("SHELFCALL_HOST", "127.0.0.1"))
        command.add_argument("--port", type=int, default=int(os.environ.get("SHELFCALL_PORT", "8000")))
        command.add_argument(
            "--worker",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="run the background worker inside the server (default: on for SQLite, off for PostgreSQL)",
        )
        if name == "serve":
            command.add_argument("--no-migrate", action="store_true", help="leave the database schema as it is")
            command.add_argument(
                "--workers",
                type=_positive,
                default=os.environ.get("SHELFCALL_WEB_PROCESSES"),
                help="serving processes sharing the port (default: one per core on PostgreSQL; SQLite: always 1)",
            )
    commands.add_parser(
        "worker", help="run the background work: timers, messages, queued jobs (one or more beside `serve`)"
    )
    backup = commands.add_parser("backup", help="copy the embedded SQLite database while it runs")
    backup.add_argument("--to", type=Path, help="the new file (default: $SHELFCALL_DATA_DIR/backups/…)")
    restore = commands.add_parser("restore", help="replace the embedded SQLite database with a backup")
    restore.add_argument("file", type=Path)
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    setup = commands.add_parser(
        "setup", help="create an organization, its first store and its first admin; print the setup URL"
    )
    for name, question in _SETUP_QUESTIONS:
        setup.add_argument(f"--{name}", default="", help=f"{question.split(' (')[0]}; asked when not given")
    setup.add_argument("--no-migrate", action="store_true", help="leave the database schema as it is")
    manage = commands.add_parser("manage", help="run a Django management command, e.g. `manage createsuperuser`")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    if options.command in {"demo", "serve"}:
        _share_metrics_between_processes()
        # Links in messages (Manage This Order, the shopper's status page) point at this server.
        os.environ.setdefault("SHELFCALL_BASE_URL", _base_url(options.host, options.port))

    _setup_django()
    if options.command == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["shelfcall", *options.args])
        return
    if options.command == "worker":
        _run_worker()
        return
    if options.command == "setup":
        sys.exit(_setup(options))
    if options.command in {"backup", "restore"}:
        sys.exit(_backup(options) if options.command == "backup" else _restore(options))
    _prepare(migrate=not getattr(options, "no_migrate", False))
    if options.command == "demo":
        _print_demo_urls(_base_url(options.host, options.port))
    from shelfcall.core.startup import release_connections

    release_connections()  # the main thread serves no request: it keeps no connection (core/startup.py)
    processes = _serving_processes(getattr(options, "workers", None))
    _serve(options.host, options.port, with_worker=_embedded_worker(options.worker), processes=processes)


if __name__ == "__main__":
    main(sys.argv[1:])
