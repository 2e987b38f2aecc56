"""Streams that ask the same read at once share it (sse.SharedReads), but never one begun before their news;
keys asked in the same turn of the loop are read together (sse.GatheredReads)."""

import asyncio
import threading
import time

from shelfcall.live.sse import GatheredReads, Message, SharedReads


class SlowPoll:
    """A read that waits until it is let go, so that others ask while it runs."""

    def __init__(self) -> None:
        self.reads = 0
        self.let_go = threading.Event()

    def key(self, since: int) -> tuple:
        return "order:1", since

    def read(self, since: int) -> int:
        self.reads += 1
        number = self.reads
        self.let_go.wait(5)
        return number

    def message(self, reading: int) -> Message | None:
        return Message(reading, "order", {})


async def asking(shared: SharedReads, poll: SlowPoll, news_at: list[float]) -> list[int]:
    asked = [asyncio.create_task(shared.message(poll, 7, at)) for at in news_at]
    await asyncio.sleep(0.05)
    poll.let_go.set()
    return [message.id for message in await asyncio.gather(*asked)]


def test_streams_that_heard_before_the_read_began_share_it():
    poll = SlowPoll()
    heard = time.monotonic()
    assert asyncio.run(asking(SharedReads(), poll, [heard, heard, heard])) == [1, 1, 1]
    assert poll.reads == 1


def test_a_stream_that_heard_after_the_read_began_reads_again():
    """Its news may have been committed after the running read looked: that read may not show it."""
    poll = SlowPoll()
    heard = time.monotonic()
    assert asyncio.run(asking(SharedReads(), poll, [heard, heard + 3600])) == [1, 2]


def test_a_stream_that_leaves_does_not_cancel_the_read_the_others_wait_for():
    async def scenario() -> int:
        poll, shared = SlowPoll(), SharedReads()
        leaving = asyncio.create_task(shared.message(poll, 7, 0.0))
        staying = asyncio.create_task(shared.message(poll, 7, 0.0))
        await asyncio.sleep(0.05)
        leaving.cancel()
        poll.let_go.set()
        return (await staying).id

    assert asyncio.run(scenario()) == 1


class Letters:
    """A read of many keys at once, counting its calls."""

    def __init__(self, fails: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.fails = fails

    def __call__(self, keys: list[int]) -> dict[int, str]:
        self.calls.append(sorted(keys))
        if self.fails:
            raise ConnectionError("the database went away")
        return {key: chr(ord("a") + key) for key in keys if key < 20}


def test_keys_asked_in_one_turn_are_read_together_and_each_asker_gets_its_own():
    letters = Letters()
    gathered = GatheredReads(letters)

    async def scenario() -> tuple[list, list]:
        together = await asyncio.gather(*(gathered.get(key) for key in (3, 1, 3, 25)))
        later = [await gathered.get(2)]
        return together, later

    assert asyncio.run(scenario()) == (["d", "b", "d", None], ["c"])
    assert letters.calls == [[1, 3, 25], [2]]  # 25: nothing found, None; the later ask, a read of its own


def test_a_failed_read_reaches_every_asker():
    gathered = GatheredReads(Letters(fails=True))

    async def scenario() -> list:
        return await asyncio.gather(*(gathered.get(key) for key in (1, 2)), return_exceptions=True)

    assert [type(outcome) for outcome in asyncio.run(scenario())] == [ConnectionError, ConnectionError]
