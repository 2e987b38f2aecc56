"""Sessions are signed cookies (core/sessions.py): a cookie copied before its sign-in ended signs nobody
in after it, whichever way the sign-in ended, while the person's other sessions go on; a cookie that
was changed, or that has no sign-in id, or predates a password change, signs nobody in either; nor does
a PIN sign-in once its PIN is changed, reset or removed."""

import asyncio
import threading
from datetime import timedelta

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.test import AsyncClient, Client

from shelfcall.core import clock, sessions
from shelfcall.core.housekeeping import tidy
from shelfcall.core.models import RevokedSignIn
from shelfcall.setup import first_password
from shelfcall.stores.models import Membership, Role, StaffPin
from shelfcall.stores.signin import PIN_HASH_SESSION_KEY, PasswordBackend, pin_session_hash
from tests.factories import make_store, make_user, save_session, signed_in, signed_in_with_pin

COOKIE = settings.SESSION_COOKIE_NAME


def copy_of(browser: Client) -> Client:
    """Someone else's browser holding a copy of `browser`'s session cookie, as it is now."""
    thief = Client()
    thief.cookies[COOKIE] = browser.cookies[COOKIE].value
    return thief


def is_in(browser: Client) -> bool:
    response = browser.get("/w/")
    assert response.status_code in {200, 302}
    return response.status_code == 200


async def asgi_get(path: str, cookie: str) -> int:
    """A GET sent to the ASGI application as a server would send it; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", f"{COOKIE}={cookie}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    # Imported here, not at collection: the application's static files middleware reads the test settings.
    from shelfcall.asgi import application

    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=20)
    while (await communicator.receive_output(timeout=20)).get("more_body"):
        pass
    return start["status"]


def password_sign_in(user) -> Client:
    browser = Client()
    response = browser.post("/w/login", {"username": user.username, "password": "x"})
    assert response.status_code == 302, response.content.decode()
    return browser


@pytest.fixture
def store():
    return make_store()


@pytest.mark.django_db
class TestSigningOutRevokes:
    def test_a_password_sign_in_copied_before_signing_out_is_refused_after_it(self, store, time_machine):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        alex = make_user(store)
        browser, elsewhere = password_sign_in(alex), password_sign_in(alex)
        thief = copy_of(browser)
        assert is_in(thief)
        browser.post("/w/logout")
        assert not is_in(browser) and not is_in(thief)
        assert is_in(elsewhere)  # the same person's other session goes on
        revoked = RevokedSignIn.objects.get()  # kept as long as a cookie signed now could be valid
        cookies_signed_by_now_expire = clock.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        assert revoked.user == alex and revoked.expires_at > cookies_signed_by_now_expire

    def test_a_pin_switch_ends_the_previous_persons_sign_in_on_that_device(self, store, rate_limits):
        alex, jo = make_user(store), make_user(store, name="Jo")
        signed_in(jo).post("/w/pin", {"current": "x", "pin": "482193", "again": "482193"})
        device, jo_elsewhere = password_sign_in(alex), password_sign_in(jo)
        alex_copy = copy_of(device)
        device.post("/w/switch", {"user": jo.pk, "pin": "482193"})
        assert is_in(device) and not is_in(alex_copy)
        jo_copy = copy_of(device)
        device.post("/w/logout")
        assert not is_in(jo_copy)
        assert is_in(jo_elsewhere)
        assert set(RevokedSignIn.objects.values_list("user", flat=True)) == {alex.pk, jo.pk}

    def test_signing_in_again_over_ones_own_session_ends_the_old_sign_in(self, store):
        alex = make_user(store)
        get_user_model().objects.filter(pk=alex.pk).update(is_staff=True)  # the admin signs in over a session
        browser = password_sign_in(alex)
        before = copy_of(browser)
        assert browser.post("/admin/login/", {"username": alex.username, "password": "x"}).status_code == 302
        assert not is_in(before) and is_in(browser)

    def test_the_idle_sign_out_revokes_too(self, store, time_machine, settings):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        browser = password_sign_in(make_user(store))
        browser.get("/w/")
        thief = copy_of(browser)
        time_machine.shift(timedelta(minutes=31))
        assert browser.get("/w/")["Location"].startswith("/w/login")
        settings.SHELFCALL_STAFF_IDLE_MINUTES = 0  # the copy is refused for its sign-in, not for being idle
        assert not is_in(thief)
        assert RevokedSignIn.objects.count() == 1

    def test_housekeeping_purges_a_revoked_sign_in_once_no_cookie_can_carry_it(self, store, time_machine):
        time_machine.move_to("2026-11-01 10:00:00+00:00", tick=False)
        browser = password_sign_in(make_user(store))
        thief = copy_of(browser)
        browser.post("/w/logout")
        for _day in range(14):  # the copy kept fresh: a page it opens may write it again, with a new date
            time_machine.shift(timedelta(days=1))
            assert not is_in(thief)
        tidy()
        assert RevokedSignIn.objects.count() == 1
        time_machine.move_to("2026-11-15 11:00:01+00:00", tick=False)  # two weeks and an hour
        assert tidy() >= 1 and not RevokedSignIn.objects.exists()
        assert not is_in(thief)  # its fresh cookie was written without the sign-in

    def test_a_refused_sign_in_is_not_written_again(self, store):
        browser = password_sign_in(make_user(store))
        thief = copy_of(browser)
        browser.post("/w/logout")
        thief.get("/w/stores")  # a page that writes its session (here: the idle stamp)
        assert thief.cookies[COOKIE].value and SESSION_KEY not in thief.session


@pytest.mark.django_db
class TestCookiesThatSignNobodyIn:
    def test_a_changed_cookie_is_ignored(self, store):
        browser = signed_in(make_user(store))
        value = browser.cookies[COOKIE].value
        for forged in (value[:-1] + ("A" if value[-1] != "A" else "B"), "x" + value, "not-a-cookie", ""):
            browser.cookies[COOKIE] = forged
            response = browser.get("/w/")
            assert response.status_code == 302 and response["Location"].startswith("/w/login")

    def test_a_cookie_from_before_a_password_change_is_refused(self, store):
        alex = make_user(store)
        first_password.give(alex)
        browser = password_sign_in(alex)
        before = copy_of(browser)
        new = {"new_password1": "a-long-new-password-42", "new_password2": "a-long-new-password-42"}
        assert browser.post("/w/password", new).status_code == 302
        assert is_in(browser) and not is_in(before)  # Django's session hash: the password is part of it

    def test_a_session_with_a_user_but_no_sign_in_id_signs_nobody_in(self, store):
        """Made before sign-ins had ids, or a shopper's session given a user: either way, nobody's."""
        alex = make_user(store)
        browser = Client()
        session = browser.session
        session[SESSION_KEY] = str(alex.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = alex.get_session_auth_hash()
        save_session(browser, session)
        assert not is_in(browser)
        session[sessions.SIGN_IN_KEY] = "made-up"  # an id is not a password: it only names a sign-in
        save_session(browser, session)
        assert is_in(browser)

    def test_the_session_is_json_and_never_pickle(self):
        assert sessions.SessionStore.serializer.__name__ == "JSONSerializer"


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
class TestAPinSignInLastsAsLongAsItsPin:
    """Like Django's session hash for the password: a PIN sign-in keeps a digest of the PIN's hash."""

    def test_changing_ones_own_pin_signs_out_the_devices_switched_to_with_the_old_one(self, store):
        alex = make_user(store)
        tablet, till = signed_in_with_pin(alex), signed_in_with_pin(alex)
        own_phone = password_sign_in(alex)
        assert is_in(tablet) and is_in(till)
        changed = own_phone.post("/w/pin", {"current": "x", "pin": "135792", "again": "135792"})
        assert changed.status_code == 302
        assert not is_in(tablet) and not is_in(till)
        assert is_in(own_phone)  # it changed the PIN, signed in with the password: it stays in
        assert is_in(signed_in_with_pin(alex, "135792"))

    def test_a_pin_reset_by_the_stores_admin_signs_out_the_devices(self, store):
        alex, admin = make_user(store), make_user(store, name="Ada", role=Role.STORE_ADMIN)
        tablet, own_phone = signed_in_with_pin(alex), password_sign_in(alex)
        membership = Membership.objects.get(user=alex, store=store)
        reset = signed_in(admin).post(f"/setup/stores/{store.pk}/staff/{membership.pk}", {"pin": "135792"})
        assert reset.status_code == 302
        assert not is_in(tablet)
        assert is_in(own_phone)  # a PIN is not the password

    def test_a_pin_removed_signs_out_its_devices(self, store):
        alex = make_user(store)
        tablet = signed_in_with_pin(alex)
        StaffPin.objects.filter(user=alex).delete()
        assert not is_in(tablet)

    def test_the_same_pin_set_again_still_signs_out(self, store):
        """A new hash (a new salt) whatever the digits: those who knew the PIN are out until they switch again."""
        alex = make_user(store)
        tablet = signed_in_with_pin(alex, "135792")
        StaffPin.objects.filter(user=alex).update(pin_hash="pbkdf2_sha256$1$another-salt$AAAA")
        assert not is_in(tablet)

    def test_a_deactivated_or_removed_associate_is_out_of_the_pin_session(self, store):
        alex, jo = make_user(store), make_user(store, name="Jo")
        alexs_tablet, jos_tablet = signed_in_with_pin(alex), signed_in_with_pin(jo)
        get_user_model().objects.filter(pk=alex.pk).update(is_active=False)
        assert not is_in(alexs_tablet)
        admin = make_user(store, name="Ada", role=Role.STORE_ADMIN)
        membership = Membership.objects.get(user=jo, store=store)
        signed_in(admin).post(f"/setup/stores/{store.pk}/staff/{membership.pk}/remove")
        assert not Membership.objects.filter(user=jo).exists()
        assert jos_tablet.get("/w/").status_code != 200  # no store to work in: the workspace is closed to them

    def test_a_pin_session_without_the_pins_digest_signs_nobody_in(self, store):
        """Made before sign-ins kept it, or edited out of the cookie: not a proof of the PIN."""
        tablet = signed_in_with_pin(make_user(store))
        session = tablet.session
        assert session[PIN_HASH_SESSION_KEY]
        del session[PIN_HASH_SESSION_KEY]
        save_session(tablet, session)
        assert not is_in(tablet)

    def test_a_digest_made_with_a_retired_secret_key_is_accepted_and_made_again(self, store, settings):
        alex = make_user(store)
        tablet = signed_in_with_pin(alex)
        old_key = settings.SECRET_KEY
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "k" * 40, [old_key]
        assert is_in(tablet)
        current = pin_session_hash(StaffPin.objects.get(user=alex).pin_hash)
        assert tablet.session[PIN_HASH_SESSION_KEY] == current
        settings.SECRET_KEY_FALLBACKS = []
        assert is_in(tablet)

    def test_a_password_sign_in_over_a_pin_session_keeps_no_pin_digest(self, store):
        alex = make_user(store)
        get_user_model().objects.filter(pk=alex.pk).update(is_staff=True)  # the admin signs in over a session
        tablet = signed_in_with_pin(alex)
        assert tablet.post("/admin/login/", {"username": alex.username, "password": "x"}).status_code == 302
        assert PIN_HASH_SESSION_KEY not in tablet.session
        StaffPin.objects.filter(user=alex).delete()
        assert is_in(tablet)


@pytest.mark.django_db(transaction=True)
class TestSigningOutWhileAnotherRequestWritesTheSession:
    """Two requests with the same cookie at the same moment: one signs out, the other read the user just
    before and writes the session (its idle stamp) just after. Whichever cookie the browser keeps, and
    any copy of either, the revocation wins."""

    def test_the_cookie_written_after_the_sign_out_is_refused(self, store, monkeypatch):
        alex = make_user(store)
        browser = signed_in(alex)
        cookie = browser.cookies[COOKIE].value
        writer_has_its_user, signed_out = threading.Event(), threading.Event()
        read_user = PasswordBackend.get_user

        def get_user(self, user_id):
            user = read_user(self, user_id)
            if threading.current_thread().name == "writer":
                writer_has_its_user.set()
                assert signed_out.wait(20), "the sign-out did not finish"
            return user

        monkeypatch.setattr(PasswordBackend, "get_user", get_user)
        answers = {}

        def write() -> None:
            answers["write"] = copy_of(browser).get("/w/stores")

        def sign_out() -> None:
            assert writer_has_its_user.wait(20), "the writer never read its user"
            answers["sign out"] = copy_of(browser).post("/w/logout")
            signed_out.set()

        threads = [threading.Thread(target=write, name="writer"), threading.Thread(target=sign_out, name="out")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert answers["write"].status_code == 200 and answers["sign out"].status_code == 302
        written = answers["write"].cookies[COOKIE].value  # the session written after the sign-out…
        assert written and written != cookie
        monkeypatch.setattr(PasswordBackend, "get_user", read_user)
        for kept in (written, answers["sign out"].cookies[COOKIE].value, cookie):
            later = Client()
            later.cookies[COOKIE] = kept
            assert not is_in(later)  # …still carries the revoked sign-in, and signs nobody in
        assert RevokedSignIn.objects.filter(user=alex).count() == 1


@pytest.mark.django_db(transaction=True)
class TestUnderAsgi:
    def test_a_revoked_sign_in_is_refused_by_the_asgi_handler(self, store):
        alex = make_user(store)

        async def scenario() -> list[int]:
            browser, thief = AsyncClient(), AsyncClient()
            await browser.aforce_login(alex)
            thief.cookies[COOKIE] = browser.cookies[COOKIE].value
            statuses = [(await thief.get("/w/")).status_code]
            await browser.post("/w/logout")
            return [*statuses, (await thief.get("/w/")).status_code]

        assert asyncio.run(scenario()) == [200, 302]

    def test_two_requests_at_once_each_read_their_own_sign_in(self, store, monkeypatch):
        """Through the ASGI application itself, which runs each page in a thread of its own."""
        alex, jo = make_user(store), make_user(store, name="Jo")
        both_reading = threading.Barrier(2, timeout=10)
        seen = {}
        read_user = PasswordBackend.get_user

        def get_user(self, user_id):
            both_reading.wait()  # the two requests' users are being read at the same time, in two threads
            seen[int(user_id)] = (sessions.current_sign_in(), threading.get_ident())
            both_reading.wait()
            return read_user(self, user_id)

        monkeypatch.setattr(PasswordBackend, "get_user", get_user)
        browsers = {user.pk: signed_in(user) for user in (alex, jo)}
        ids = {pk: browser.session[sessions.SIGN_IN_KEY] for pk, browser in browsers.items()}

        async def both() -> list[int]:
            return await asyncio.gather(
                *(asgi_get("/w/", browser.cookies[COOKIE].value) for browser in browsers.values())
            )

        assert asyncio.run(both()) == [200, 200]
        assert {pk: sign_in for pk, (sign_in, _thread) in seen.items()} == ids
        assert len({thread for _sign_in, thread in seen.values()}) == 2

    def test_an_async_view_reads_the_user_with_its_sign_in(self, store):
        """`request.auser()`, as async views read the user: the sign-in id crosses into the thread."""
        from django.test import AsyncRequestFactory

        alex = make_user(store)

        async def user_of(cookie: str):
            request = AsyncRequestFactory().get("/")
            request.session = sessions.SessionStore(cookie)
            sessions.AuthenticationMiddleware(lambda request: None).process_request(request)
            return await request.auser()

        browser = signed_in(alex)
        cookie = browser.cookies[COOKIE].value
        assert asyncio.run(user_of(cookie)) == alex
        browser.post("/w/logout")
        assert not asyncio.run(user_of(cookie)).is_authenticated
