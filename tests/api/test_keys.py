from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shelfcall.api import keys
from shelfcall.api.errors import KeyRevoked, Unauthenticated
from shelfcall.api.models import ApiKey
from shelfcall.api.scopes import Scope
from shelfcall.core import clock

pytestmark = pytest.mark.django_db


def test_only_a_hash_of_the_secret_is_stored(till_key):
    stored = ApiKey.objects.get(pk=till_key.api_key.pk)
    prefix, secret = till_key.plaintext.removeprefix("sc_").split("_", 1)
    assert stored.prefix == prefix and secret not in stored.secret_hash and len(stored.secret_hash) == 64
    assert keys.authenticate(till_key.plaintext) == stored


@pytest.mark.parametrize(
    "token",
    [
        "",
        "sc_",
        "Bearer x",
        "sc_0123456789ab_" + "a" * 42,
        "sc_0123456789ab_" + "a" * 43,
        "sc_０１２３456789ab_" + "a" * 43,
    ],
)
def test_malformed_or_unknown_keys_are_refused(till_key, token):
    with pytest.raises(Unauthenticated):
        keys.authenticate(token)


def test_right_prefix_wrong_secret_is_refused(till_key):
    forged = till_key.plaintext[:-4] + ("AAAA" if not till_key.plaintext.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated):
        keys.authenticate(forged)


def test_revoked_key_is_refused(till_key):
    assert keys.revoke([till_key.api_key]) == 1
    with pytest.raises(KeyRevoked):
        keys.authenticate(till_key.plaintext)
    assert keys.revoke([till_key.api_key]) == 0, "revoking twice changes nothing"


def test_last_used_is_written_at_most_once_a_minute(till_key, time_machine, django_assert_num_queries):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    keys.authenticate(till_key.plaintext)
    first = ApiKey.objects.get(pk=till_key.api_key.pk).last_used_at
    assert first == clock.now()
    time_machine.shift(timedelta(seconds=59))
    with django_assert_num_queries(0):  # this process's copy of the key, and no write
        keys.authenticate(till_key.plaintext)
    time_machine.shift(timedelta(seconds=2))
    keys.authenticate(till_key.plaintext)
    assert ApiKey.objects.get(pk=till_key.api_key.pk).last_used_at == clock.now()


class TestProcessCopy:
    """Each process keeps a key's row for CACHE_SECONDS (monotonic time, not the wall clock)."""

    @pytest.fixture
    def monotonic(self, monkeypatch):
        now = [1000.0]
        monkeypatch.setattr(keys.time, "monotonic", lambda: now[0])
        return now

    def test_a_kept_key_costs_no_query_and_its_secret_is_still_checked(self, till_key, django_assert_num_queries):
        keys.authenticate(till_key.plaintext)
        with django_assert_num_queries(0):
            keys.authenticate(till_key.plaintext)
            with pytest.raises(Unauthenticated):
                keys.authenticate(
                    till_key.plaintext[:-4] + ("AAAA" if not till_key.plaintext.endswith("AAAA") else "BBBB")
                )

    def test_revoking_here_refuses_the_key_at_once(self, till_key):
        keys.authenticate(till_key.plaintext)
        keys.revoke([ApiKey.objects.get(pk=till_key.api_key.pk)])
        with pytest.raises(KeyRevoked):
            keys.authenticate(till_key.plaintext)

    def test_revoked_by_another_process_refused_here_within_the_cache_time(self, till_key, monotonic):
        keys.authenticate(till_key.plaintext)
        # Another process revokes: this one's copy is not told.
        ApiKey.objects.filter(pk=till_key.api_key.pk).update(revoked_at=clock.now())
        monotonic[0] += keys.CACHE_SECONDS - 0.1
        assert keys.authenticate(till_key.plaintext).pk == till_key.api_key.pk
        monotonic[0] += 0.2
        with pytest.raises(KeyRevoked):
            keys.authenticate(till_key.plaintext)

    def test_a_new_key_works_at_once_after_a_miss(self, store, make_key):
        issued = make_key(store)
        prefix = issued.plaintext.split("_")[1]
        ApiKey.objects.filter(prefix=prefix).update(prefix="000000000000")  # as if not issued yet
        with pytest.raises(Unauthenticated):
            keys.authenticate(issued.plaintext)
        ApiKey.objects.filter(prefix="000000000000").update(prefix=prefix)
        assert keys.authenticate(issued.plaintext).pk == issued.api_key.pk


def test_command_prints_a_working_key(store, capsys):
    call_command("create_api_key", "--store", store.slug, "--scopes", "orders:read, payments:write", "--name", "Till 9")
    printed = capsys.readouterr().out.strip()
    api_key = keys.authenticate(printed)
    assert api_key.store == store and api_key.scopes == [Scope.ORDERS_READ, Scope.PAYMENTS_WRITE]
    assert api_key.name == "Till 9"


def test_command_for_a_whole_organization(store, capsys):
    call_command("create_api_key", "--organization", store.organization.slug, "--scopes", "orders:read")
    api_key = keys.authenticate(capsys.readouterr().out.strip())
    assert api_key.store is None and api_key.organization == store.organization


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--store", "nowhere", "--scopes", "orders:read"], "No store"),
        (["--organization", "nowhere", "--scopes", "orders:read"], "No organization"),
        (["--store", "1", "--scopes", "orders:delete"], "scopes are"),
        (["--store", "1", "--scopes", ","], "at least one scope"),
    ],
)
def test_command_explains_bad_arguments(store, args, problem):
    with pytest.raises(CommandError, match=problem):
        call_command("create_api_key", *args)


def test_demo_keys_are_stable_and_work(store):
    from shelfcall.api.demo import demo_api_keys

    first = demo_api_keys(store)
    assert demo_api_keys(store) == first and ApiKey.objects.count() == 2
    till = keys.authenticate(first["till"])
    assert Scope.PAYMENTS_WRITE in till.scopes and till.store == store
    keys.revoke([till])
    assert demo_api_keys(store)["till"].endswith("(revoked in the admin)")
