"""The whole app wired together: real engine process, real SQLite file, real widgets."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from app.chat.recovery import open_chat_history
from inference.protocol import ChatMessage
from storage.chats import ConversationRepository, MessageRepository
from storage.records import MessageStatus, Role
from storage.traces import TraceRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import bar_text, click_link, type_and_send
from tests.support.qt_user import answer_message_box
from tests.support.tiny_gguf import build_corrupt_variants

MakeApp = Callable[..., AppParts]


def test_a_turn_streams_into_the_view_and_is_stored_with_stats(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=24)
    assert window.model_label.text().startswith("tiny-test")
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as finished:
        type_and_send(qtbot, window, "hello world")
    assert window.message_input.toPlainText() == ""
    conversation_id = controller.current_conversation
    assert conversation_id is not None
    path = MessageRepository(db).active_path(conversation_id)
    assert [m.role for m in path] == [Role.USER, Role.ASSISTANT]
    user, reply = path
    assert user.content == "hello world"
    assert reply.id == finished.args[0]
    assert reply.status == MessageStatus.COMPLETE
    assert reply.stats is not None
    assert reply.stats.prompt_tokens > 0 and reply.stats.completion_tokens > 0
    assert reply.stats.model == "tiny-test" and reply.stats.n_ctx == 1024
    assert "hello world" in window.chat_view.toPlainText()
    shown = window.chat_view.message_text(reply.id)
    assert "tok/s" in shown and "prompt 1" in shown  # the stats under the message
    # "Copy" puts the raw reply on the clipboard.
    window.chat_view.anchorClicked.emit(QUrl(f"hearth://copy/{reply.id}"))
    assert QGuiApplication.clipboard().text() == reply.content
    assert "tok/s" in window.live_stats.text()
    # The first message names the conversation.
    record = ConversationRepository(db).get(conversation_id)
    assert record is not None and record.title == "hello world"


def test_shift_enter_adds_a_line_and_empty_text_is_not_sent(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    box = window.message_input
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert box.toPlainText() == "line one\nline two"
    assert not controller.generating
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    path = MessageRepository(db).active_path(controller.current_conversation)
    assert path[0].content == "line one\nline two"


def test_follow_up_turns_only_evaluate_new_tokens(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=2048, max_tokens=8, temperature=0.0)
    for turn in range(5):
        with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
            type_and_send(qtbot, window, f"question {turn}")
    replies = [
        m
        for m in MessageRepository(db).active_path(controller.current_conversation)
        if m.role == Role.ASSISTANT
    ]
    last = replies[-1].stats
    assert last is not None
    assert last.prompt_tokens > 4 * last.prompt_tokens_evaluated


def test_regenerate_keeps_the_old_reply_as_a_version(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=8)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as first:
        type_and_send(qtbot, window, "hi")
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as second:
        window.chat_view.regenerateRequested.emit(first.args[0])
    messages = MessageRepository(db)
    path = messages.active_path(controller.current_conversation)
    assert [m.id for m in path][-1] == second.args[0] != first.args[0]
    assert len(path) == 2
    assert messages.get(first.args[0]) is not None
    # Drafting is measured per kind of work (issue 13): the traces name it.
    works = [TraceRepository(db).get(i) for i in (first.args[0], second.args[0])]
    assert [w.phases["work"] if w else None for w in works] == ["chat", "regenerate"]


def test_delete_goes_to_trash_and_undo_restores(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "keep me")
    doomed = controller.current_conversation
    conversations = ConversationRepository(db)
    window.conversations.deleteRequested.emit(doomed)
    assert conversations.get(doomed) is None
    assert window.undo_bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert conversations.get(doomed) is not None
    assert controller.current_conversation == doomed
    assert "keep me" in window.chat_view.toPlainText()


def test_ctrl_n_starts_a_new_chat_listed_first(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    first = controller.current_conversation
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert controller.current_conversation != first
    assert ConversationRepository(db).list_recent()[0].id == controller.current_conversation
    assert window.chat_view.toPlainText().strip() == ""


@pytest.mark.parametrize("variant", ["truncated", "bad_heads", "vocab_only"])
def test_a_bad_model_is_reported_and_nothing_typed_is_lost(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, variant: str
) -> None:
    bad = build_corrupt_variants(tmp_path)[variant]
    window, controller, db = make_app(bad, wait_loaded=False, n_ctx=512)
    qtbot.waitUntil(lambda: window.error_bar.isVisible(), timeout=30_000)
    assert "could not be loaded" in bar_text(window.error_bar)
    # Sending still stores the message, and the reply says what went wrong.
    type_and_send(qtbot, window, "are you there?")
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    path = MessageRepository(db).active_path(controller.current_conversation)
    assert path[0].content == "are you there?"
    assert path[-1].status == MessageStatus.ERROR
    assert window.isVisible()


def test_a_prompt_longer_than_the_context_is_explained(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    window.message_input.setPlainText("word " * 400)
    window.message_input.request_send()
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    path = MessageRepository(db).active_path(controller.current_conversation)
    assert path[0].content.startswith("word word")
    assert path[-1].status == MessageStatus.ERROR
    assert "too long" in window.chat_view.message_text(path[-1].id)  # the reply says why
    qtbot.waitUntil(lambda: window.context_budget.over_budget, timeout=30_000)
    assert "Start a new chat" in window.context_budget.text()  # and what to do


# ---- long replies: the real Gemma model keeps talking, which these tests need -----------


@pytest.mark.slow
def test_esc_stops_a_reply_and_it_is_kept(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path
) -> None:
    window, controller, db = make_app(gemma_model, n_ctx=1024, max_tokens=400, temperature=0.0)
    type_and_send(qtbot, window, "Write a long story about a dragon.")
    qtbot.waitUntil(lambda: len(window.chat_view.reply_text()) > 20, timeout=30_000)
    assert window.send_button.text() == "Stop"
    with qtbot.waitSignal(controller.replyFinished, timeout=10_000) as finished:
        qtbot.keyClick(window.message_input, Qt.Key.Key_Escape)
    reply = MessageRepository(db).get(finished.args[0])
    assert reply is not None and reply.stats is not None
    assert reply.stats.stop_reason == "cancelled"
    assert reply.stats.completion_tokens < 400
    assert reply.content and reply.content in window.chat_view.toPlainText()
    assert window.send_button.text() == "Send"


@pytest.mark.slow
def test_partial_reply_is_flushed_while_streaming_and_a_killed_engine_is_survived(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path
) -> None:
    window, controller, db = make_app(gemma_model, n_ctx=1024, max_tokens=400, temperature=0.0)
    type_and_send(qtbot, window, "Write a long story about a dragon.")
    messages = MessageRepository(db)
    conversation_id = controller.current_conversation

    def flushed_partial() -> bool:
        reply = messages.active_path(conversation_id)[-1]
        return (
            reply.role == Role.ASSISTANT
            and reply.status == MessageStatus.STREAMING
            and bool(reply.content)
        )

    # Another connection (as after a crash of the whole app) sees the partial text.
    qtbot.waitUntil(flushed_partial, timeout=30_000)
    pid = controller.client.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not controller.generating, timeout=10_000)
    reply = messages.active_path(conversation_id)[-1]
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.content  # the text so far is kept
    assert "SIGKILL" in bar_text(window.error_bar)
    # The next message starts a fresh engine.
    with qtbot.waitSignal(controller.replyFinished, timeout=60_000):
        type_and_send(qtbot, window, "Are you back?")
    assert controller.client.pid != pid
    assert messages.active_path(conversation_id)[-1].status == MessageStatus.COMPLETE


@pytest.mark.slow
def test_a_reply_streaming_when_the_app_dies_shows_as_interrupted_next_start(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path, hearth_home: Path
) -> None:
    window, controller, db = make_app(gemma_model, n_ctx=1024, max_tokens=400, temperature=0.0)
    type_and_send(qtbot, window, "Tell me about the sea.")
    messages = MessageRepository(db)
    conversation_id = controller.current_conversation
    qtbot.waitUntil(lambda: bool(messages.active_path(conversation_id)[-1].content), timeout=30_000)
    partial = messages.active_path(conversation_id)[-1]
    # Reopen the same file as a new start would, while this "dead" app never finished.
    reopened, _ = open_chat_history(db.path)
    try:
        again = MessageRepository(reopened).get(partial.id)
        assert again is not None
        assert again.status == MessageStatus.INTERRUPTED
        assert again.content.startswith(partial.content[:10])
    finally:
        reopened.close()


def test_a_corrupt_database_is_moved_aside_and_the_user_is_told(
    qtbot: QtBot, hearth_home: Path, tiny_model: Path, make_app: MakeApp
) -> None:
    (hearth_home / "hearth.db").write_bytes(b"this is not a database" * 100)
    window, controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    # Told at once that it was set aside, then (recovery runs in the background) what came back.
    qtbot.waitUntil(lambda: "file is kept at" in bar_text(window.error_bar), timeout=30_000)
    message = bar_text(window.error_bar)
    assert message.startswith("The chat history was damaged (file is not a database).")
    assert "Nothing could be recovered from the damaged database" in message
    [kept] = hearth_home.glob("hearth.db.corrupt-*")
    assert message.endswith(f"the damaged file is kept at {kept}.")
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "fresh start")


@pytest.mark.slow
def test_switching_chats_while_streaming_keeps_both_intact(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path
) -> None:
    window, controller, db = make_app(gemma_model, n_ctx=1024, max_tokens=300, temperature=0.0)
    type_and_send(qtbot, window, "Write a long story about a dragon.")
    streaming = controller.current_conversation
    qtbot.waitUntil(lambda: len(window.chat_view.reply_text()) > 10, timeout=30_000)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not controller.generating, timeout=10_000)
    # The cancelled reply is stored last; every delta before it has been handled by then.
    qtbot.waitUntil(
        lambda: MessageRepository(db).active_path(streaming)[-1].status == MessageStatus.COMPLETE,
        timeout=10_000,
    )
    assert window.chat_view.toPlainText().strip() == ""  # nothing leaked into the new chat
    reply = MessageRepository(db).active_path(streaming)[-1]
    assert reply.role == Role.ASSISTANT and reply.content
    assert reply.status == MessageStatus.COMPLETE
    assert reply.stats is not None and reply.stats.stop_reason == "cancelled"


def test_a_locked_database_is_reported_and_the_typed_text_stays(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    import sqlite3

    window, controller, db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the file
    try:
        type_and_send(qtbot, window, "do not lose me")
        assert "could not be saved" in bar_text(window.error_bar)
        assert window.message_input.toPlainText() == "do not lose me"
        assert not controller.generating
    finally:
        other.execute("ROLLBACK")
        other.close()
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        window.message_input.request_send()
    assert window.message_input.toPlainText() == ""


def test_the_context_budget_follows_the_draft(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    budget = window.context_budget
    qtbot.keyClicks(window.message_input, "hello")
    qtbot.waitUntil(lambda: "of 256 tokens" in budget.text(), timeout=10_000)
    short = int(budget.text().split()[2].replace(",", ""))
    window.message_input.setPlainText("hello " * 300)
    qtbot.waitUntil(lambda: budget.over_budget, timeout=10_000)
    assert "longer than the model's context" in budget.text()
    window.message_input.setPlainText("hello world")
    qtbot.waitUntil(lambda: not budget.over_budget and "of 256" in budget.text(), timeout=10_000)
    assert int(budget.text().split()[2].replace(",", "")) == short + 1


def test_switching_models_reloads_the_engine_and_remembers_the_choice(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, tmp_path: Path
) -> None:
    from app.config.paths import resolve_paths
    from app.config.settings import load_settings
    from tests.support.tiny_gguf import build_tiny_model

    window, controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    other = build_tiny_model(tmp_path / "other.gguf", seed=7)
    with qtbot.waitSignal(controller.session.loaded, timeout=30_000) as ready:
        controller.session.switch(str(other))
    assert ready.args[0].path == str(other)
    assert load_settings(resolve_paths().settings_file).model_path == str(other)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "still works")


def test_a_seeded_conversation_opens_in_chat_ready_for_a_question(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=8)
    window.pages.setCurrentIndex(0)
    seeded = controller.seed_conversation(
        "Summary: report.pdf",
        [(Role.USER, "Here is a summary of report.pdf."), (Role.ASSISTANT, "- point one")],
    )
    assert seeded is not None and controller.current_conversation == seeded
    path = MessageRepository(db).active_path(seeded)
    assert [(m.role, m.content) for m in path] == [
        (Role.USER, "Here is a summary of report.pdf."),
        (Role.ASSISTANT, "- point one"),
    ]
    assert ConversationRepository(db).list_recent()[0].title == "Summary: report.pdf"
    assert "point one" in window.chat_view.toPlainText()
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "what else?")
    assert len(MessageRepository(db).active_path(seeded)) == 4


def test_an_overgrown_chat_asks_then_drops_old_turns_with_a_visible_marker(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=256, max_tokens=8)
    assert window.context_policy.policy() == "ask"
    long_text = "hello world " * 25
    for _ in range(3):
        with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
            type_and_send(qtbot, window, long_text)
        if window.overflow_question.isVisible():
            break
    else:
        type_and_send(qtbot, window, long_text)
        qtbot.waitUntil(window.overflow_question.isVisible, timeout=30_000)
    assert "no longer fits" in window.overflow_question.label.text()
    assert "outside the model's view" not in window.chat_view.toPlainText()

    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        qtbot.mouseClick(window.overflow_question.buttons["drop_oldest"], Qt.MouseButton.LeftButton)
    assert not window.overflow_question.isVisible()
    shown = window.chat_view.toPlainText()
    assert "outside the model's view" in shown
    # Nothing was deleted: every message is still stored and shown.
    conversation_id = controller.current_conversation
    assert conversation_id is not None
    path = MessageRepository(db).active_path(conversation_id)
    assert path[-1].status == MessageStatus.COMPLETE
    assert shown.count("You\n") == sum(1 for m in path if m.role == Role.USER) >= 3

    # A standing choice: no more questions, the oldest turns are left out on their own.
    window.context_policy.setCurrentIndex(window.context_policy.findData("keep_ends"))
    window.context_policy.activated.emit(window.context_policy.currentIndex())
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, long_text)
    assert not window.overflow_question.isVisible()
    assert "outside the model's view" in window.chat_view.toPlainText()
    assert controller.store.settings.context_policy == "keep_ends"


def test_edit_and_regenerate_keep_versions_the_arrows_switch_between(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6)
    messages = MessageRepository(db)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "first question")
    cid = controller.current_conversation
    assert cid is not None
    question, first_reply = messages.active_path(cid)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        click_link(window, f"hearth://regenerate/{first_reply.id}")
    second_reply = messages.active_path(cid)[-1]
    assert second_reply.id != first_reply.id and second_reply.version == 2
    assert "version 2/2" in window.chat_view.message_text(second_reply.id)

    click_link(window, f"hearth://older/{second_reply.id}")  # back to the first reply
    assert [m.id for m in messages.active_path(cid)] == [question.id, first_reply.id]
    assert "version 1/2" in window.chat_view.message_text(first_reply.id)
    assert window.chat_view.message_text(second_reply.id) == ""
    assert not window.chat_view.textCursor().hasSelection()  # nothing turned blue

    window.message_input.setPlainText("")
    click_link(window, f"hearth://edit/{question.id}")
    assert window.edit_bar.isVisible()
    assert window.message_input.toPlainText() == "first question"
    window.message_input.selectAll()
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "a better question")
    edited, edited_reply = messages.active_path(cid)
    assert edited.content == "a better question" and edited.parent_id is None
    assert (edited.version, edited.version_count) == (2, 2)
    assert not window.edit_bar.isVisible() and window.message_input.toPlainText() == ""
    assert "first question" not in window.chat_view.toPlainText()

    # The old question and the reply chosen under it come back with one click, and the
    # choice is stored: a fresh read of the database shows the same branch.
    click_link(window, f"hearth://older/{edited.id}")
    assert [m.id for m in messages.active_path(cid)] == [question.id, first_reply.id]
    assert "first question" in window.chat_view.toPlainText()
    click_link(window, f"hearth://newer/{question.id}")
    assert [m.id for m in messages.active_path(cid)] == [edited.id, edited_reply.id]


def test_editing_never_overwrites_a_draft(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "question")
    cid = controller.current_conversation
    assert cid is not None
    question = MessageRepository(db).active_path(cid)[0]
    qtbot.keyClicks(window.message_input, "half-typed thought")
    click_link(window, f"hearth://edit/{question.id}")
    assert window.message_input.toPlainText() == "half-typed thought"
    assert not window.edit_bar.isVisible() and "draft" in bar_text(window.error_bar)


def test_pin_system_prompt_and_trash_from_the_sidebar(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    conversations = ConversationRepository(db)
    old = conversations.create("Old chat")
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "newer chat")
    newer = controller.current_conversation
    assert [c.id for c in conversations.list_recent()][:2] == [newer, old.id]

    window.conversations.build_context_menu(old.id).actions()[0].trigger()  # Pin to top
    assert conversations.list_recent()[0].id == old.id
    assert window.conversations.title_of(old.id) == "Old chat"
    assert window.conversations.model.item(0).font().bold()

    monkeypatch.setattr(  # the user types the prompt into the dialog and presses OK
        QInputDialog,
        "getMultiLineText",
        staticmethod(lambda *_a, **_k: ("Answer like a pirate.", True)),
    )
    window.conversations.build_context_menu(newer).actions()[1].trigger()  # System prompt…
    assert conversations.get(newer).system_prompt == "Answer like a pirate."  # type: ignore[union-attr]
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "and now?")
    path = MessageRepository(db).active_path(newer)  # type: ignore[arg-type]
    stats = path[-1].stats
    assert stats is not None
    # The engine's count of the same history without the system prompt is smaller by at
    # least the prompt's own words: the prompt went to the model.
    history = [ChatMessage(m.role.value, m.content) for m in path[:-1]]
    asked: list[int] = []
    with qtbot.waitSignal(
        controller.client.tokensCounted, timeout=10_000, check_params_cb=lambda r, _n: r in asked
    ) as counted:
        asked.append(controller.client.count_prompt(history))
    assert stats.prompt_tokens >= counted.args[1] + 4

    controller.delete(newer)  # type: ignore[arg-type]
    qtbot.mouseClick(window.conversations.trash_button, Qt.MouseButton.LeftButton)
    trash = window.trash_dialog
    assert trash.isVisible() and trash.items.count() == 1
    qtbot.mouseClick(trash.restore_button, Qt.MouseButton.LeftButton)
    assert controller.current_conversation == newer and trash.items.count() == 0
    controller.delete(old.id)
    controller.show_trash()
    answer_message_box(qtbot, "&Yes", asked_to_empty := [])
    qtbot.mouseClick(trash.empty_button, Qt.MouseButton.LeftButton)
    assert asked_to_empty[0].startswith("Delete 1 chat for good?")
    assert conversations.list_deleted() == [] and trash.hint.text() == "The trash is empty."
    assert not window.undo_bar.isVisible()  # nothing left to undo
