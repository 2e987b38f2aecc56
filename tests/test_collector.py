"""The collector policy of web processes: freeze survivors, thaw and collect now and then."""

import gc

from shelfcall.core import collector


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_frozen_survivors_are_kept_and_thawing_collects_the_garbage_among_them():
    gc.unfreeze()
    try:
        kept = Cycle()
        collector.freeze_survivors()
        assert gc.get_freeze_count() > 0
        del kept  # now cyclic garbage, but frozen: only a thaw can free it
        assert gc.collect() == 0
        assert collector.thaw() >= 1
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


class Ticks:
    """A stop event whose wait() returns at once: `rounds` times "go on", then "stop"."""

    def __init__(self, rounds: int) -> None:
        self.left = rounds

    def wait(self, timeout: float) -> bool:
        self.left -= 1
        return self.left < 0


def test_the_loop_freezes_each_round_and_thaws_when_its_time_comes(monkeypatch):
    done = []
    monkeypatch.setattr(collector, "freeze_survivors", lambda: done.append("freeze"))
    monkeypatch.setattr(collector, "thaw", lambda: done.append("thaw"))
    collector.run(Ticks(3), every=5, thaw_every=600)
    assert done == ["freeze"] * 3
    done.clear()
    collector.run(Ticks(2), every=5, thaw_every=0)
    assert done == ["thaw", "thaw"]


def test_off_when_the_period_is_zero():
    assert collector.start_in_background(0) is None
