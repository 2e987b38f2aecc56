"""Each channel posts exactly the JSON its service expects, to a real HTTP server."""

import base64
import json
import time
from importlib import resources

import jsonschema
import pytest
from django.core import mail
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shelfcall.notify.channels import PLUGINS, Destination
from shelfcall.notify.channels.teams import CARD_LIMIT_BYTES
from shelfcall.notify.channels.webhook import is_valid_secret, new_secret
from shelfcall.notify.messages import Message
from shelfcall.notify.netguard import UnsafeDestination
from tests.notify.receiver import TEST_WEBHOOK_SECRET

MESSAGE = Message(
    "new_order",
    "New order #1042",
    "A shopper is waiting for these items.",
    facts=[("Store", "Downtown"), ("Team", "Power tools"), ("Waiting", "3 min"), ("Shopper", "Kim")],
    items=["2 × Cordless drill (18 V)", "1 × Jigsaw"],
    url="http://localhost:8000/w/orders/7",
    button="Manage This Order",
    event={
        "id": "42",
        "type": "order.created",
        "timestamp": "2026-11-23T10:00:00+00:00",
        "data": {"order_id": 7, "number": 1042, "status": "new", "store_id": 3},
    },
)


def local(receiver, secret: str = "") -> Destination:
    return Destination(receiver.url, secret, allow_private_network=True)


def texts(rich_text_block: dict) -> list[str]:
    return [run["text"] for run in rich_text_block["inlines"]]


def adaptive_card_schema() -> dict:
    return json.loads(resources.files("adaptive_cards").joinpath("schemas/schema-1.4.json").read_text())


def test_teams_posts_a_valid_adaptive_card(receiver):
    delivery = PLUGINS["teams"].deliver(local(receiver), MESSAGE, idempotency_key="k1")
    assert delivery.ok and delivery.status_code == 200
    payload = receiver.received[0].json()
    assert receiver.received[0].headers["content-type"] == "application/json"
    [attachment] = payload["attachments"]
    assert payload["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    jsonschema.Draft6Validator(adaptive_card_schema()).validate(card)
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Manage This Order", "url": "http://localhost:8000/w/orders/7"}
    ]
    assert texts(card["body"][0]) == ["New order #1042"]
    assert ["Shopper: ", "Kim"] in [texts(fact) for fact in card["body"][2]["items"]]
    assert [texts(item) for item in card["body"][3]["items"]] == [["• 2 × Cordless drill (18 V)"], ["• 1 × Jigsaw"]]


def test_teams_card_stays_within_the_size_limit():
    from shelfcall.notify.channels.teams import teams_payload

    huge = Message(
        "new_order", "T", "x", items=["A" * 4000] * 20, facts=[("F", "B" * 5000)] * 10, url="http://x/", button="Go"
    )
    assert len(json.dumps(teams_payload(huge)).encode()) <= CARD_LIMIT_BYTES + 1000


def test_slack_posts_block_kit_with_a_button(receiver):
    assert PLUGINS["slack"].deliver(local(receiver), MESSAGE, idempotency_key="k1").ok
    payload = receiver.received[0].json()
    assert payload["text"] == "New order #1042: A shopper is waiting for these items."
    assert payload["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "New order #1042"}}
    assert payload["blocks"][-1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Manage This Order"},
                "url": "http://localhost:8000/w/orders/7",
                "style": "primary",
                "action_id": "manage_order",
            }
        ],
    }


def test_webhook_follows_standard_webhooks(receiver):
    assert PLUGINS["webhook"].deliver(local(receiver, TEST_WEBHOOK_SECRET), MESSAGE, idempotency_key="42:c1").ok
    received = receiver.received[0]
    assert Webhook(TEST_WEBHOOK_SECRET).verify(received.body, received.headers) == {
        "type": "order.created",
        "timestamp": "2026-11-23T10:00:00+00:00",
        "data": MESSAGE.event["data"],
    }
    assert received.headers["webhook-id"] == "42"  # the event's id, not the channel's message
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 5


def test_a_retry_has_the_same_id_and_a_fresh_signature(receiver, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    destination = local(receiver, TEST_WEBHOOK_SECRET)
    PLUGINS["webhook"].deliver(destination, MESSAGE, idempotency_key="42:c1")
    time_machine.shift(60)
    PLUGINS["webhook"].deliver(destination, MESSAGE, idempotency_key="42:c1")
    first, retry = receiver.received
    assert first.headers["webhook-id"] == retry.headers["webhook-id"] == "42"
    assert int(retry.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 60
    assert first.verified and retry.verified


def test_while_rotating_both_secrets_sign(receiver):
    new = new_secret(lambda size: b"n" * size)
    PLUGINS["webhook"].deliver(
        Destination(receiver.url, new, True, previous_secret=TEST_WEBHOOK_SECRET), MESSAGE, idempotency_key="k"
    )
    received = receiver.received[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, TEST_WEBHOOK_SECRET):  # a receiver that has either one accepts it
        Webhook(secret).verify(received.body, received.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret(lambda size: b"x" * size)).verify(received.body, received.headers)


def test_secrets_are_whsec_and_base64():
    secret = new_secret(lambda size: bytes(range(size)))
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert is_valid_secret(secret)
    assert not is_valid_secret("0123456789abcdef0123456789")  # an old plain secret
    assert not is_valid_secret("whsec_" + base64.b64encode(b"short").decode())
    assert not is_valid_secret("whsec_not base64!")


def test_sms_through_twilio(receiver, settings):
    settings.SHELFCALL_TWILIO_ACCOUNT_SID = "AC123"
    settings.SHELFCALL_TWILIO_AUTH_TOKEN = "token"
    settings.SHELFCALL_TWILIO_FROM = "+15550001111"
    settings.SHELFCALL_TWILIO_API_BASE = receiver.url.removesuffix("/hook")
    assert PLUGINS["sms"].deliver(Destination("+33612345678"), MESSAGE, idempotency_key="k").ok
    received = receiver.received[0]
    assert received.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert received.headers["authorization"].startswith("Basic ")
    assert b"To=%2B33612345678" in received.body and b"From=%2B15550001111" in received.body


def test_sms_is_off_until_configured():
    delivery = PLUGINS["sms"].deliver(Destination("+33612345678"), MESSAGE, idempotency_key="k")
    assert not delivery.ok and "SMS is off" in delivery.answer


def test_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert PLUGINS["email"].deliver(Destination("lead@example.com"), MESSAGE, idempotency_key="k").ok
    [sent] = mail.outbox
    assert sent.subject == "New order #1042" and "Manage This Order: http://localhost:8000/w/orders/7" in sent.body


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://10.0.0.8/x",
        "http://[::1]/x",
        "http://localhost/x",
        "http://169.254.169.254/latest/meta-data",
        "ftp://example.com/x",
        "not a url",
    ],
)
def test_private_or_odd_addresses_are_refused(url):
    with pytest.raises(UnsafeDestination):
        PLUGINS["webhook"].deliver(Destination(url, TEST_WEBHOOK_SECRET), MESSAGE, idempotency_key="k")


def test_timeouts_and_errors_are_answers_not_crashes(receiver, settings):
    settings.SHELFCALL_HTTP_TIMEOUT = 0.2
    receiver.answers = [(200, 0.5)]
    slow = PLUGINS["slack"].deliver(local(receiver), MESSAGE, idempotency_key="k")
    assert not slow.ok and slow.answer == "timed out"
    receiver.answers = [(503, 0)]
    down = PLUGINS["slack"].deliver(local(receiver), MESSAGE, idempotency_key="k")
    assert (down.ok, down.status_code) == (False, 503)
    gone = PLUGINS["slack"].deliver(
        Destination("http://127.0.0.1:9/", allow_private_network=True), MESSAGE, idempotency_key="k"
    )
    assert not gone.ok and gone.answer.startswith("connection failed")


@pytest.mark.django_db
class TestChannelValidation:
    def channel(self, **fields):
        from shelfcall.notify.models import Channel
        from tests.factories import make_store

        return Channel(store=make_store(), name="c", **fields)

    def errors(self, **fields) -> dict:
        from django.core.exceptions import ValidationError

        try:
            self.channel(**fields).full_clean()
        except ValidationError as error:
            return error.message_dict
        return {}

    def test_each_kind_names_the_field_and_the_fix(self):
        assert "private or local network" in self.errors(kind="teams", target="http://192.168.1.4/x")["target"][0]
        assert "https://" in self.errors(kind="slack", target="hooks.slack.com/x")["target"][0]
        assert "international form" in self.errors(kind="sms", target="0612345678")["target"][0]
        assert "email address" in self.errors(kind="email", target="not-an-address")["target"][0]
        assert (
            "whsec_"
            in self.errors(kind="webhook", target="http://127.0.0.1/x", allow_private_network=True, secret="short")[
                "secret"
            ][0]
        )
        assert (
            "list of event names"
            in self.errors(kind="email", target="a@example.com", events="order.created")["events"][0]
        )

    def test_an_admin_may_allow_a_private_receiver(self):
        assert not self.errors(
            kind="webhook", target="http://127.0.0.1:8080/hook", allow_private_network=True, secret=TEST_WEBHOOK_SECRET
        )
