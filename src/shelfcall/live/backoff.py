"""Waits between retries: doubling up to a ceiling, each drawn at random in its upper half so that
the many streams and browsers a blip disconnected together do not all come back at once."""

import random
from collections.abc import Callable


class Backoff:
    def __init__(self, first: float, longest: float, *, draw: Callable[[], float] = random.random) -> None:
        self.first = first
        self.longest = longest
        self._draw = draw
        self._next = first

    def next_delay(self) -> float:
        delay, self._next = self._next, min(self.longest, self._next * 2)
        return delay * (0.5 + self._draw() / 2)

    def reset(self) -> None:
        self._next = self.first
