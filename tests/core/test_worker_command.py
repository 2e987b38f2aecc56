"""`shelfcall worker` runs the job loop; `serve` runs it inside on the embedded database (cli.py)."""

import signal
import threading

import pytest
from django.db import connection

from shelfcall import cli
from shelfcall.core.jobs import loop


def test_the_worker_command_runs_the_loop_until_sigterm(monkeypatch):
    handlers = {}
    monkeypatch.setattr(signal, "signal", lambda number, handler: handlers.setdefault(number, handler))

    def run(stop: threading.Event) -> None:
        handlers[signal.SIGTERM](signal.SIGTERM, None)  # what `kill` does to a worker
        assert stop.is_set()

    monkeypatch.setattr(loop, "run", run)
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    cli.main(["worker"])
    assert set(handlers) == {signal.SIGTERM, signal.SIGINT}


@pytest.mark.django_db
@pytest.mark.parametrize("asked", [None, True, False])
def test_serve_runs_the_worker_inside_on_sqlite_unless_told(monkeypatch, asked):
    import uvicorn

    started = []
    monkeypatch.setattr(loop, "start_in_background", lambda: started.append(True))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    embedded = cli._embedded_worker(asked)
    cli._serve("127.0.0.1", 8000, with_worker=embedded, processes=1)
    default = connection.vendor == "sqlite"
    assert started == ([True] if (default if asked is None else asked) else [])
