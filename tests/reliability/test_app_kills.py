"""The whole app killed (SIGKILL) at random moments of a reply: the database intact, the stored
text the start of what was shown, the reply interrupted on the next start, and no engine
process left running. A few runs of bench/reliability.py's second part (the figures for text
lost are the bench's: no timed assertion here)."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest

from tests.support.app_kills import AppKiller, Delta, lost_seconds
from tests.support.engine_kills import RAMBLING_SETTINGS, build_kill_model

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def test_lost_seconds_count_from_the_first_piece_not_stored_to_the_kill() -> None:
    deltas = [Delta(1.0, "ab"), Delta(2.0, "cd"), Delta(3.0, "ef"), Delta(9.0, "late")]
    assert lost_seconds(deltas, "abcdef", killed_at=3.5) == 0.0
    assert lost_seconds(deltas, "abcd", killed_at=3.5) == pytest.approx(0.5)
    assert lost_seconds(deltas, "a", killed_at=3.5) == pytest.approx(2.5)
    assert lost_seconds(deltas, "", killed_at=0.5) == 0.0  # killed before any text


@pytest.mark.slow
def test_the_app_killed_mid_reply_leaves_an_intact_history_and_no_engine(
    tmp_path: Path,
) -> None:
    model = build_kill_model(tmp_path / "rambling.gguf")
    killer = AppKiller(tmp_path / "home", model, RAMBLING_SETTINGS)
    duration = killer.measure_reply()
    rng = random.Random(15)
    outcomes = [killer.kill_once(rng.uniform(0, 0.6 * duration)) for _ in range(3)]
    killer.last_start()
    for outcome in outcomes:
        assert outcome.passed, outcome
    assert any(o.mid_reply for o in outcomes)  # a busy machine may make one reply short
