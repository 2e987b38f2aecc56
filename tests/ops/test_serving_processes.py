"""How many processes `shelfcall serve` starts (cli.py)."""

import os

import pytest
from django.db import connection

from shelfcall import cli


@pytest.mark.django_db
def test_one_process_per_core_on_postgresql_and_always_one_on_sqlite(capsys):
    if connection.vendor == "postgresql":
        assert cli._serving_processes(None) == len(os.sched_getaffinity(0))
        assert cli._serving_processes(3) == 3
    else:
        assert cli._serving_processes(None) == 1
        assert cli._serving_processes(3) == 1
        assert "--workers ignored" in capsys.readouterr().err


def test_workers_must_be_one_or_more():
    with pytest.raises(SystemExit):
        cli.main(["serve", "--workers", "0"])
