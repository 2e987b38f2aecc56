import io

import pytest
from django.contrib.auth import get_user_model

from shelfcall import cli
from shelfcall.stores.models import Membership, Organization, Role, Store

pytestmark = pytest.mark.django_db

FLAGS = ["--organization", "Hardware Hall Ltd", "--store", "Hall Lyon", "--timezone", "Europe/Paris"]
FLAGS += ["--username", "olga", "--email", "olga@example.com", "--no-migrate"]


@pytest.fixture(autouse=True)
def _django_is_set_up(monkeypatch):
    monkeypatch.setattr(cli, "_setup_django", lambda: None)


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as ended:
        cli.main(argv)
    return ended.value.code


def test_flags_make_the_organization_store_and_admin_and_print_the_setup_url(monkeypatch, capsys):
    monkeypatch.setenv("SHELFCALL_SETUP_PASSWORD", "a long secret 42")
    monkeypatch.setenv("SHELFCALL_BASE_URL", "https://shop.example.com")
    assert run(["setup", *FLAGS]) == 0
    store = Store.objects.get(name="Hall Lyon")
    assert store.organization.name == "Hardware Hall Ltd" and store.timezone == "Europe/Paris"
    admin = get_user_model().objects.get(username="olga")
    assert admin.check_password("a long secret 42") and admin.email == "olga@example.com"
    membership = Membership.objects.get(user=admin)
    assert (membership.role, membership.store_id, membership.organization_id) == (
        Role.ORG_ADMIN,
        None,
        store.organization_id,
    )
    assert f"https://shop.example.com/setup/stores/{store.pk}/" in capsys.readouterr().out


def test_it_asks_for_what_no_flag_gave(monkeypatch, capsys):
    monkeypatch.delenv("SHELFCALL_SETUP_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["Hardware Hall Ltd", "Hall Lyon", "Asia/Seoul", "olga", "olga@example.com"])
    monkeypatch.setattr("builtins.input", lambda question: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda question: "a long secret 42")
    assert run(["setup", "--no-migrate"]) == 0
    assert Store.objects.get(name="Hall Lyon").timezone == "Asia/Seoul"


def test_without_a_terminal_it_names_the_missing_flags(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert run(["setup", "--store", "Hall Lyon", "--no-migrate"]) == 2
    error = capsys.readouterr().err
    assert "--organization" in error and "--username" in error and "--store" not in error
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--timezone", "Mars/Olympus"], "timezone: Unknown time zone Mars/Olympus"),
        (["--email", "not-an-email"], "email:"),
        (["--organization", "!!!"], "slug:"),
    ],
)
def test_bad_answers_name_the_field_and_make_nothing(monkeypatch, capsys, flags, says):
    monkeypatch.setenv("SHELFCALL_SETUP_PASSWORD", "a long secret 42")
    assert run(["setup", *FLAGS, *flags]) == 2
    assert says in capsys.readouterr().err
    assert not Organization.objects.exists() and not get_user_model().objects.exists()


def test_a_taken_username_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("SHELFCALL_SETUP_PASSWORD", "a long secret 42")
    get_user_model().objects.create_user("OLGA")
    assert run(["setup", *FLAGS]) == 2
    assert "olga is taken" in capsys.readouterr().err and not Store.objects.exists()
