"""The chaos run (benchmarks/chaos.py) with its small load: kill -9 a web process behind nginx, kill -9
the worker (restarted as a supervisor would), crash-restart PostgreSQL, all under API load with status
streams open; then nothing lost, doubled or stuck. The run uses a private PostgreSQL cluster of its own.

About a minute and a half, most of it waiting for the escalation timers (a minute, the shortest a
level allows) to fall due after the faults. CI runs it on the PostgreSQL pass; `-m "not slow"` leaves
it out."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nginx import NGINX
from tests.support.pgcluster import _bin_dir

CHAOS = Path(__file__).resolve().parents[2] / "benchmarks" / "chaos.py"
CHECKS = 11  # the run prints one PASS or FAIL line per check

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (apt-get install nginx-light; bin/test does)"),
    pytest.mark.skipif(_bin_dir() is None, reason="needs Debian's PostgreSQL server binaries"),
]


def test_a_kill_of_a_web_process_the_worker_and_postgresql_loses_doubles_and_strands_nothing():
    run = subprocess.run([sys.executable, str(CHAOS), "--small"], capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    checks = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert run.returncode == 0, out
    assert len(checks) == CHECKS and all(line.startswith("PASS") for line in checks), out
