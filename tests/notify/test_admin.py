import pytest

from shelfcall.notify.models import MessageStatus, OutboxMessage
from shelfcall.notify.worker import deliver_due
from tests.factories import make_showcase, make_store, submit
from tests.notify.factories import make_channel

pytestmark = pytest.mark.django_db


def test_send_test_message_shows_the_real_answer(admin_client, receiver):
    store = make_store()
    channel = make_channel(store, receiver.url, kind="slack")
    response = admin_client.post(
        "/admin/notify/channel/", {"action": "send_test_message", "_selected_action": [channel.pk]}, follow=True
    )
    assert "answered: 200" in response.content.decode()
    assert receiver.received[0].json()["blocks"][0]["text"]["text"] == "Shelfcall test message"
    receiver.answers = [(404, 0)]
    response = admin_client.post(
        "/admin/notify/channel/", {"action": "send_test_message", "_selected_action": [channel.pk]}, follow=True
    )
    assert "answered: 404 error from receiver" in response.content.decode()


def test_failed_messages_are_listed_with_their_attempts_and_can_be_retried(admin_client, receiver, settings):
    settings.SHELFCALL_OUTBOX_MAX_ATTEMPTS = 1
    receiver.answers = [(500, 0), (200, 0)]
    store = make_store()
    make_channel(store, receiver.url)
    submit(make_showcase(store))
    deliver_due()
    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.FAILED
    assert "Failed" in admin_client.get("/admin/notify/outboxmessage/?status=failed").content.decode()
    detail = admin_client.get(f"/admin/notify/outboxmessage/{message.pk}/change/").content.decode()
    assert "error from receiver" in detail
    admin_client.post("/admin/notify/outboxmessage/", {"action": "try_again", "_selected_action": [message.pk]})
    deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.parametrize(
    "url", ["/admin/notify/escalationpolicy/add/", "/admin/notify/collectionpolicy/add/", "/admin/notify/channel/add/"]
)
def test_policy_pages_open(admin_client, url):
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("cancelling, refused", [("0", True), ("1", False)])
def test_only_the_last_escalation_level_can_cancel(admin_client, cancelling, refused):
    from shelfcall.notify.models import EscalationPolicy

    store = make_store()
    channel = make_channel(store, "https://chat.example/hook", events=[])
    form = {"store": store.pk, "watch": "unclaimed", "levels-TOTAL_FORMS": 2, "levels-INITIAL_FORMS": 0}
    for index, after in enumerate([5, 15]):
        form |= {f"levels-{index}-after_minutes": after, f"levels-{index}-channel": channel.pk}
    form[f"levels-{cancelling}-cancel_and_release"] = "on"
    page = admin_client.post("/admin/notify/escalationpolicy/add/", form).content.decode()
    assert ("Only the last level can cancel" in page) == refused
    assert EscalationPolicy.objects.exists() != refused
