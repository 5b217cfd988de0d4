"""The engine killed (SIGKILL, SIGSEGV, SIGABRT) at random moments of a reply, before its first
token included: the window stays up, the text so far is saved and marked interrupted, and the
next message is answered by a fresh engine. A few runs of bench/reliability.py's first part."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.config.settings import Settings, save_settings
from app.gui.main import build_app
from storage.chats import MessageRepository
from tests.support.app_parts import AppParts
from tests.support.engine_kills import (
    MOMENTS,
    RAMBLING_SETTINGS,
    SIGNALS,
    build_kill_model,
    kill_engine_once,
    measure_reply,
    plan_kills,
)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


@pytest.fixture(scope="module")
def kill_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kill_model(tmp_path_factory.mktemp("models") / "rambling.gguf")


@pytest.fixture
def chat_app(qtbot: QtBot, kill_model: Path) -> Iterator[AppParts]:
    paths = resolve_paths()
    save_settings(paths.settings_file, Settings(model_path=str(kill_model), **RAMBLING_SETTINGS))  # type: ignore[arg-type]
    window, controller, database = build_app(paths, pages=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(controller.session.loaded, timeout=60_000):
        controller.start()
    yield window, controller, database
    controller.shutdown()
    database.close()


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_a_killed_engine_leaves_the_reply_interrupted_and_the_next_message_answered(
    chat_app: AppParts, sig: signal.Signals
) -> None:
    window, controller, database = chat_app
    shape = measure_reply(window, controller, timeout_s=60)
    plans = [p for p in plan_kills(9, shape, random.Random(sig.value)) if p.signal == sig]
    assert sorted(p.moment for p in plans) == sorted(MOMENTS)
    for plan in plans:
        outcome = kill_engine_once(window, controller, MessageRepository(database), plan)
        # A delay can outlast a reply that a busy machine made short: then it proves nothing.
        if plan.moment == "delay" and not outcome.mid_reply:
            continue
        assert outcome.passed, (plan, outcome.problems)
