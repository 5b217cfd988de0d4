"""Messages about the model's context: one owner (app.gui.chat.context_state) recomputes them
on every change of chat, draft or model, shows at most one at a time, and drops each with its cause.

Every case here was seen stale by a user: "This message is too long…" after a shorter
message was sent, a red "Too long…" with an empty input that followed into new chats, four
context messages at once, and "Next request: N tokens" of the previous chat."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.app_parts import AppParts
from tests.support.chat_window import bar_text, type_and_send
from ui.main_window import MainWindow

MakeApp = Callable[..., AppParts]

# Words of every context message there is (budget line, refusals, the overflow question).
_CONTEXT_WORDS = ("context", "too long", "no longer fits", "tokens")
_PLAIN_FIGURE = re.compile(r"Next request: (more than )?[\d,]+ (of [\d,]+ )?tokens")


def context_messages(window: MainWindow) -> list[str]:
    """Every message about the context the user can see now, wherever it is shown. The plain
    "Next request: N of M tokens" figure is not a message; a warning or advice is."""
    shown: list[str] = []
    budget = window.context_budget
    if budget.text() and not _PLAIN_FIGURE.fullmatch(budget.text()):
        shown.append(budget.text())
    if window.overflow_question.isVisible():
        shown.append(window.overflow_question.label.text())
    if window.error_bar.isVisible() and any(
        w in bar_text(window.error_bar).lower() for w in _CONTEXT_WORDS
    ):
        shown.append(bar_text(window.error_bar))
    status = window.statusBar().currentMessage()
    if any(w in status.lower() for w in _CONTEXT_WORDS):
        shown.append(status)
    return shown


def _figure(window: MainWindow) -> int:
    return int(window.context_budget.text().split()[2].replace(",", ""))  # "Next request: N of"


def test_a_refused_message_is_forgotten_once_a_shorter_one_is_sent(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=256, max_tokens=4)
    box, budget = window.message_input, window.context_budget
    box.setPlainText("word " * 400)
    qtbot.waitUntil(lambda: budget.over_budget, timeout=30_000)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert not controller.generating  # refused before storing
    assert context_messages(window) == [budget.text()]  # said once, under the input
    assert budget.text().startswith("Not sent:") and "Models page" in budget.text()

    box.clear()
    assert context_messages(window) == []  # its cause (that draft) is gone
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "short one")
    qtbot.waitUntil(lambda: "Next request" in budget.text(), timeout=30_000)
    assert context_messages(window) == []


def test_a_chat_too_long_for_the_context_says_so_there_and_only_there(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """Sent before it was counted, the engine refuses it; the chat keeps the long message, so
    its next request is too long too, also with an empty input. A new chat is not."""
    window, controller, _db = make_app(tiny_model, n_ctx=256, max_tokens=4)
    budget = window.context_budget
    window.message_input.setPlainText("word " * 400)
    window.message_input.request_send()
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    long_chat = controller.current_conversation
    assert long_chat is not None
    qtbot.waitUntil(lambda: budget.over_budget, timeout=30_000)
    assert window.message_input.toPlainText() == ""
    assert len(context_messages(window)) == 1
    assert "new chat" in budget.text()

    qtbot.keyClick(window.message_input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert controller.current_conversation != long_chat
    assert context_messages(window) == [] and budget.text() == ""  # at once, not after a count
    qtbot.keyClicks(window.message_input, "hello")
    qtbot.waitUntil(lambda: "Next request" in budget.text(), timeout=30_000)
    assert context_messages(window) == [] and _figure(window) < 64

    controller.open_conversation(long_chat)  # back: recomputed for that chat and this draft
    assert "Next request" not in budget.text()
    qtbot.waitUntil(lambda: budget.over_budget, timeout=30_000)
    assert len(context_messages(window)) == 1


def test_the_next_request_figure_belongs_to_the_chat_and_model_on_screen(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, tmp_path: Path
) -> None:
    from tests.support.tiny_gguf import build_tiny_model

    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    budget = window.context_budget
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "tell me about the river and the mountain castle")
    first = controller.current_conversation
    assert first is not None
    qtbot.waitUntil(lambda: "Next request" in budget.text(), timeout=30_000)
    figure = _figure(window)
    assert figure > 10

    assert "context" in window.live_stats.text()  # the reply's stats in the status bar
    window.new_chat_action.trigger()  # Ctrl+N
    assert budget.text() == ""  # not the other chat's figure
    assert window.live_stats.text() == ""  # nor its last reply's context use
    qtbot.keyClicks(window.message_input, "hi")
    qtbot.waitUntil(lambda: "Next request" in budget.text(), timeout=30_000)
    assert _figure(window) < figure

    window.message_input.clear()
    controller.open_conversation(first)
    assert budget.text() == ""
    qtbot.waitUntil(lambda: "Next request" in budget.text(), timeout=30_000)
    assert _figure(window) == figure

    other = build_tiny_model(tmp_path / "other.gguf", seed=7)
    with qtbot.waitSignal(controller.session.loaded, timeout=30_000):
        controller.session.switch(str(other))
        assert budget.text() == ""  # the old model's count means nothing for the new one
    qtbot.waitUntil(lambda: "Next request" in budget.text(), timeout=30_000)


def test_an_overgrown_chat_shows_one_context_message_at_a_time(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    long_text = "hello world " * 25
    for _ in range(4):
        type_and_send(qtbot, window, long_text)
        qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
        if window.overflow_question.isVisible():
            break
    assert window.overflow_question.isVisible()
    overgrown = controller.current_conversation
    assert overgrown is not None
    # The count asked for with the question arrives later: it must not add a second message.
    qtbot.waitUntil(lambda: "Next request" in window.context_budget.text(), timeout=30_000)
    assert context_messages(window) == [window.overflow_question.label.text()]

    qtbot.keyClicks(window.message_input, long_text)  # a draft while the question stands
    qtbot.waitUntil(lambda: "Next request" in window.context_budget.text(), timeout=30_000)
    assert context_messages(window) == [window.overflow_question.label.text()]
    window.message_input.clear()

    window.new_chat_action.trigger()
    assert context_messages(window) == []  # the question was about the other chat
    controller.open_conversation(overgrown)
    qtbot.waitUntil(lambda: window.context_budget.over_budget, timeout=30_000)
    assert len(context_messages(window)) == 1
