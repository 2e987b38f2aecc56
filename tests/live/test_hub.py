import asyncio

from shelfcall.live.hub import Announcement, Hub


def test_announcement_round_trips_and_names_its_topics():
    announcement = Announcement(event_id=7, order_id=3, store_id=2, team_id=None)
    assert Announcement.decode(announcement.encode()) == announcement
    assert announcement.topics == ("order:3", "store:2")


def test_subscribers_get_only_their_topics_and_can_leave():
    async def scenario():
        hub = Hub()
        order_watcher = hub.subscribe(["order:1"])
        store_watcher = hub.subscribe(["store:9"])
        hub.publish(Announcement(1, 1, 2, 5))
        assert (await order_watcher.wait(1)).event_id == 1
        assert await store_watcher.wait(0.05) is None
        hub.unsubscribe(order_watcher)
        hub.unsubscribe(store_watcher)
        assert hub.subscriber_count == 0

    asyncio.run(scenario())


def test_a_subscription_retopicked_is_woken_for_its_new_topics_only():
    async def scenario():
        hub = Hub()
        watcher = hub.subscribe(["order:1", "team:5"])
        assert hub.retopic(watcher, ["order:1", "team:6"]) is True  # it follows a topic it did not
        assert hub.retopic(watcher, ["order:1", "team:6"]) is False
        hub.publish(Announcement(1, 2, 9, 5))  # another order of team 5
        assert await watcher.wait(0.05) is None
        hub.publish(Announcement(2, 3, 9, 6))
        assert (await watcher.wait(1)).event_id == 2
        assert hub.retopic(watcher, ["order:1"]) is False
        hub.publish(Announcement(3, 3, 9, 6))
        assert await watcher.wait(0.05) is None
        hub.unsubscribe(watcher)
        assert hub.subscriber_count == 0

    asyncio.run(scenario())


def test_publish_from_another_thread_reaches_the_loop():
    async def scenario():
        hub = Hub()
        subscription = hub.subscribe(["team:5"])
        await asyncio.to_thread(hub.publish, Announcement(4, 1, 2, 5))
        assert (await subscription.wait(1)).event_id == 4

    asyncio.run(scenario())
