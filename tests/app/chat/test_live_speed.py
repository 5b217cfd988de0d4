"""Live speed (app/chat/live_speed.py): tokens/s over the last second, from token arrivals."""

from __future__ import annotations

import pytest

from app.chat.live_speed import MIN_TOKENS, SHOWN_S, WINDOW_S, LiveSpeed, window_speed


def steady(rate: float, seconds: float, start: float = 100.0) -> list[float]:
    """One token every 1/rate s from `start` (the first one at `start`)."""
    return [start + i / rate for i in range(round(rate * seconds) + 1)]


def test_a_full_window_counts_the_tokens_of_the_last_second() -> None:
    arrivals = steady(20, 5)
    # (102.0, 103.0] holds the tokens at 102.05 ... 103.0: 20 of them.
    assert window_speed(arrivals, 103.0) == pytest.approx(20.0)
    assert window_speed(arrivals, 103.0, window_s=2.0) == pytest.approx(20.0)


def test_a_window_that_would_start_before_the_first_token_starts_at_it() -> None:
    # Time before the stream began is not slowness: 0.5 s after the first token at 20 tok/s
    # the 10 tokens after the first count over 0.5 s, not over a whole second.
    arrivals = steady(20, 5)
    assert window_speed(arrivals, 100.5) == pytest.approx(20.0)


def test_too_little_data_gives_no_point() -> None:
    assert window_speed([], 1.0) is None
    arrivals = steady(20, 5)
    # The window since the first token is shorter than MIN_SPAN_S.
    assert window_speed(arrivals, 100.2) is None
    # Long enough, but fewer than MIN_TOKENS tokens after the first have arrived.
    slow = steady(1, 10)
    assert window_speed(slow, 100.0 + MIN_TOKENS - 0.5) is None
    assert window_speed(slow, 100.0 + MIN_TOKENS + 0.5) == pytest.approx(1.0)


def test_a_stall_after_enough_tokens_reads_zero() -> None:
    arrivals = steady(20, 2)
    assert window_speed(arrivals, 102.0 + WINDOW_S + 0.5) == 0.0


def test_a_delta_of_several_tokens_counts_each_and_the_first_token_is_left_out() -> None:
    live = LiveSpeed()
    live.add(10.0, 3)  # the first delta: its first token starts the stream
    live.add(10.25, 2)
    live.add(10.5, 0)  # nothing arrived: ignored
    # 2 + 2 tokens after the first, over the 0.5 s since it.
    assert live.sample(10.5) == [(pytest.approx(0.5), pytest.approx(8.0))]


def test_points_are_sampled_and_only_the_last_seconds_kept() -> None:
    live = LiveSpeed()
    assert live.sample(5.0) == []  # nothing has arrived: no point, no error
    for t in steady(10, 30, start=0.0):
        live.add(t, 1)
    times = [i * 0.25 for i in range(1, 121)]  # 4 Hz for 30 s
    points: list[tuple[float, float]] = []
    for at in times:
        points = live.sample(at)
    assert points[-1] == (pytest.approx(30.0), pytest.approx(10.0))
    assert points[0][0] >= 30.0 - SHOWN_S
    assert len(points) == SHOWN_S * 4 + 1
    assert all(speed == pytest.approx(10.0, abs=1.01) for _t, speed in points)
