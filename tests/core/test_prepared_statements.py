"""Server-side prepared statements on PostgreSQL (SHELFCALL_DB_PREPARE)."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from shelfcall.stores.models import Store

pytestmark = pytest.mark.django_db

prepared_on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not settings.SHELFCALL_DB_PREPARE,
    reason="prepared statements are a PostgreSQL setting, on in this run's configuration",
)


def _database_options(**environment: str) -> dict:
    """The OPTIONS settings.py builds for a PostgreSQL URL under `environment` (no connection made)."""
    code = "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    env = {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "DJANGO_SETTINGS_MODULE": "shelfcall.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**_base_env(), **env, **environment}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _base_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("SHELFCALL_DB_")}


@pytest.mark.django_db(False)
def test_prepared_statements_are_on_by_default_with_server_side_binding(tmp_path):
    options = _database_options(SHELFCALL_DATA_DIR=str(tmp_path))
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 1


@pytest.mark.django_db(False)
def test_turning_them_off_goes_back_to_client_side_binding(tmp_path):
    options = _database_options(SHELFCALL_DATA_DIR=str(tmp_path), SHELFCALL_DB_PREPARE="0")
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options
    assert options["pool"]["max_size"] == 10  # the rest of the OPTIONS stays


def _prepared(statement: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [statement])
        return cursor.fetchone()[0]


@prepared_on_postgresql
def test_a_query_run_a_second_time_on_a_connection_is_prepared():
    query = Store.objects.filter(slug="nowhere")
    sql, _params = query.query.sql_with_params()
    statement = sql.replace("%s", "$1")  # as psycopg sends it with server-side binding
    list(query.all())  # .all(): a fresh queryset each time, not the first one's cached rows
    assert _prepared(statement) == 0
    list(query.all())
    assert _prepared(statement) == 1


@prepared_on_postgresql
def test_a_multi_command_string_without_parameters_runs_again_and_is_never_prepared():
    """Migrations (orders 0002) send several commands in one string: threshold 1 sends them the
    first time by the simple protocol, which psycopg then leaves out of its cache for good."""
    several = "SELECT 1; SELECT 1"
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute(several)
            assert cursor.fetchone() == (1,)
    assert _prepared(several) == 0
