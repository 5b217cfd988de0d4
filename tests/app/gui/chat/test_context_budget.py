"""The context budget under the input: exact for a chat that could fit, cheap for one that
cannot (a huge history or a 5 MB paste), and a huge paste never loses text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.chat.budget_probe import START_BYTES_PER_TOKEN, BudgetPlan
from inference.protocol import ChatMessage
from storage.chats import MessageRepository
from storage.records import MessageStatus, Role
from tests.support.app_parts import AppParts
from tests.support.chat_window import click_link, type_and_send
from tests.support.factories import make_message
from tests.support.long_chat import insert_long_conversation
from ui.chat.message_html import SHOWN_CHARS

MakeApp = Callable[..., AppParts]


def _used(text: str) -> int:
    return int(text.split()[2].replace(",", ""))  # "Next request: 1,234 of 4,096 tokens"


def test_the_budget_of_a_short_chat_is_what_the_next_request_sends(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "tell me about the river")
    budget = window.context_budget
    budget.clear()
    qtbot.keyClicks(window.message_input, "and the mountain castle")
    qtbot.waitUntil(lambda: "of 1,024 tokens" in budget.text(), timeout=10_000)
    shown = _used(budget.text())
    with qtbot.waitSignal(controller.client.generationStarted, timeout=30_000) as started:
        qtbot.keyClick(window.message_input, Qt.Key.Key_Return)
    assert started.args[1] == shown  # prompt tokens the engine evaluated for the request
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)


def test_the_budget_of_a_huge_chat_counts_only_what_could_fit(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    conversation_id = insert_long_conversation(db, 3_000)
    counted: list[int] = []  # messages per count request; the requests still go to the engine
    count_prompt = controller.client.count_prompt

    def recording(messages: Sequence[ChatMessage]) -> int:
        counted.append(len(messages))
        return count_prompt(messages)

    controller.client.count_prompt = recording  # type: ignore[method-assign]
    controller.open_conversation(conversation_id)
    qtbot.keyClicks(window.message_input, "what next?")
    budget = window.context_budget
    qtbot.waitUntil(lambda: "more than 256 tokens" in budget.text(), timeout=30_000)
    assert budget.over_budget and "Too long" in budget.text()
    assert counted and max(counted) < 3_000 // 20  # a few dozen of the 3,000 messages


def test_a_5_mb_paste_is_counted_cheaply_refused_plainly_and_kept_in_the_box(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    pasted = ("All work and no play makes Jack a dull boy.\n" * 120_000)[: 5 * 2**20]
    QGuiApplication.clipboard().setText(pasted)
    box = window.message_input
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert box.toPlainText() == pasted
    budget = window.context_budget
    qtbot.waitUntil(lambda: budget.over_budget, timeout=60_000)
    assert "longer than the model's context (more than 256 tokens)" in budget.text()

    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert budget.text().startswith("Not sent:")  # said where the warning was, not twice
    assert not window.error_bar.isVisible()
    assert box.toPlainText() == pasted  # the draft survives the refused send
    assert not controller.generating
    conversation_id = controller.current_conversation
    assert conversation_id is not None
    assert MessageRepository(db).active_path(conversation_id) == []  # nothing half-stored

    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):  # the app goes on
        type_and_send(qtbot, window, "hello again")


def test_a_huge_message_sent_before_it_was_counted_is_stored_whole_and_explained(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    pasted = "word " * 200_000  # a megabyte, sent at once: the engine is the one to refuse it
    window.message_input.setPlainText(pasted)
    window.message_input.request_send()
    qtbot.waitUntil(lambda: not controller.generating, timeout=120_000)
    path = MessageRepository(db).active_path(controller.current_conversation)  # type: ignore[arg-type]
    assert path[0].content == pasted and path[-1].status is MessageStatus.ERROR
    assert "too long" in window.chat_view.message_text(path[-1].id)  # the reply says why
    qtbot.waitUntil(lambda: window.context_budget.over_budget, timeout=60_000)


def test_typing_after_a_5_mb_paste_asks_for_small_counts_only(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """No key press after a huge paste sends megabytes to count: keys only restart a pause
    timer, and what is counted is at most what could fill the context a few times over."""
    window, controller, _db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    sizes: list[int] = []  # bytes of text per count request
    count_prompt = controller.client.count_prompt

    def recording(messages: Sequence[ChatMessage]) -> int:
        sizes.append(sum(len(m.content.encode("utf-8")) for m in messages))
        return count_prompt(messages)

    controller.client.count_prompt = recording  # type: ignore[method-assign]
    pasted = ("All work and no play makes Jack a dull boy.\n" * 120_000)[: 5 * 2**20]
    QGuiApplication.clipboard().setText(pasted)
    box, budget = window.message_input, window.context_budget
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, " and more")
    assert sizes == []  # nothing counted while the keys come
    qtbot.waitUntil(lambda: budget.over_budget, timeout=60_000)
    assert sizes and max(sizes) <= 2 * 256 * START_BYTES_PER_TOKEN
    assert box.toPlainText() == pasted + " and more"


def test_a_5_mb_message_sent_at_once_is_stored_whole_and_shown_in_part(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """Enter straight after the paste, before it was counted: the text is stored whole (the
    engine then refuses it), the transcript shows its beginning and says how much more there
    is, and Edit brings the whole text back into the box."""
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    pasted = "".join(f"line {n} of a long log file\n" for n in range(200_000))[: 5 * 2**20]
    QGuiApplication.clipboard().setText(pasted)
    box = window.message_input
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not controller.generating, timeout=120_000)
    conversation_id = controller.current_conversation
    assert conversation_id is not None
    question, reply = MessageRepository(db).active_path(conversation_id)
    assert "too long" in window.chat_view.message_text(reply.id)
    assert question.content == pasted
    shown = window.chat_view.message_text(question.id)
    shown_part, left_out = SHOWN_CHARS, len(pasted) - SHOWN_CHARS
    assert "line 0 of a long log file" in shown and "line 199999" not in shown
    assert len(shown) < 2 * shown_part
    assert "more characters, not shown here" in shown and f"{left_out:,}"[:3] in shown

    click_link(window, f"hearth://edit/{question.id}")
    assert box.toPlainText() == pasted


# ---- the plan alone ------------------------------------------------------------------------


def test_the_plan_reads_only_the_newest_records_and_widens_to_everything() -> None:
    history = [
        make_message(n, Role.USER if n % 2 else Role.ASSISTANT, "x" * 100) for n in range(1, 1001)
    ]
    plan = BudgetPlan(history, "Be brief.", "draft", n_ctx=64)
    probe = plan.probe()
    goal = 64 * START_BYTES_PER_TOKEN
    assert not probe.complete and len(probe.messages) < goal // 100 + 3
    assert probe.messages[0] == ChatMessage("system", "Be brief.")
    assert probe.messages[-1] == ChatMessage("user", "draft")
    assert probe.messages[-2].content == history[-1].content
    while not probe.complete:
        plan.widen()
        probe = plan.probe()
    assert len(probe.messages) == 1002  # system prompt, every message, the draft


def test_a_draft_larger_than_the_goal_is_counted_by_its_beginning() -> None:
    plan = BudgetPlan([], None, "é" * 10_000, n_ctx=16)
    probe = plan.probe()
    assert not probe.complete and len(probe.messages) == 1
    assert len(probe.messages[0].content.encode("utf-8")) <= 16 * START_BYTES_PER_TOKEN
