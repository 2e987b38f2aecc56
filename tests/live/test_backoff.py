from shelfcall.live.backoff import Backoff


def test_waits_double_up_to_the_ceiling_each_in_its_upper_half():
    draws = iter([0.0, 1.0, 0.0, 0.0, 0.0])
    backoff = Backoff(first=1.0, longest=4.0, draw=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(4)] == [0.5, 2.0, 2.0, 2.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5
