"""The chat's side of "Instant resume" (issue 13), in the real window with a tiny model: every
turn names its chat's kept KV state (titles name none), deleting a chat deletes its states,
and a chat continued after Hearth restarted reads only what is new."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.chat.state_keys import chat_state_key
from app.config.paths import resolve_paths
from inference.protocol import KeptState, WarmRequest
from storage.chats import MessageRepository
from storage.traces import TraceRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import type_and_send
from tests.support.engine_requests import generated, record_requests
from tests.support.kept_state_seeds import seed_state
from tests.support.qt_user import answer_message_box
from tests.support.title_requests import TitleRequests

MakeApp = Callable[..., AppParts]
REPLY_MS = 30_000
# A first message long enough that its state is worth keeping (the engine keeps none of a
# few dozen tokens: reading them again is as fast as loading them).
HISTORY = " ".join(["the cat sat on the mat and it was good for all of us"] * 24)


def test_each_turn_names_its_chat_s_kept_state_and_a_title_request_none(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=4, auto_titles=True)
    sent = record_requests(controller, monkeypatch)
    titles = TitleRequests(controller, monkeypatch)
    type_and_send(qtbot, window, "hello world")
    titles.wait_answered(qtbot)
    first = controller.current_conversation
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        type_and_send(qtbot, window, "another chat")
    second = controller.current_conversation
    # The second chat's title too: none may be answered after the window is gone.
    qtbot.waitUntil(lambda: len(titles.sent) == 2 and len(titles.answers) == 2, timeout=REPLY_MS)
    assert first is not None and second is not None and first != second
    turns = [r.state_key for r in generated(sent) if r not in titles.sent]
    assert turns == [chat_state_key(first), chat_state_key(second)]
    assert turns == [f"chat:{first}", f"chat:{second}"]
    # Titles are side requests: nothing is kept for them.
    assert titles.sent and all(request.state_key == "" for request in titles.sent)


def test_deleting_a_chat_deletes_its_kept_states_and_no_other(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        type_and_send(qtbot, window, "delete me")
    doomed = controller.current_conversation
    assert doomed is not None
    folder = resolve_paths().kv_states_dir
    # Kept by two models, as after a model switch; and another chat's, which stays.
    states = [
        seed_state(folder, chat_state_key(doomed), 4096, model="/models/a.gguf"),
        seed_state(folder, chat_state_key(doomed), 4096, model="/models/b.gguf"),
    ]
    other = seed_state(folder, chat_state_key(doomed + 1), 4096)

    view = window.conversations.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # to the trash
    qtbot.waitUntil(lambda: not any(path.exists() for path in states))
    assert other.exists()

    # A state the engine saved after the delete (a reply being written as it happened)
    # goes when the trash is emptied.
    late = seed_state(folder, chat_state_key(doomed), 4096)
    controller.show_trash()
    answer_message_box(qtbot, "&Yes")
    qtbot.mouseClick(window.trash_dialog.empty_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not late.exists())
    assert other.exists()


def test_a_chat_continued_after_a_restart_reads_only_the_new_message(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, database = make_app(tiny_model, n_ctx=1024, max_tokens=8)
    window.message_input.setPlainText(HISTORY)  # pasted
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        qtbot.keyClick(window.message_input, Qt.Key.Key_Return)
    conversation = controller.current_conversation
    assert conversation is not None
    controller.shutdown()  # Hearth closes: the engine writes the state before it exits
    database.close()
    assert list(resolve_paths().kv_states_dir.glob("*.kvstate"))

    window, controller, database = make_app(tiny_model, n_ctx=1024, max_tokens=8)
    assert controller.current_conversation == conversation  # reopened where it was left
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS) as finished:
        type_and_send(qtbot, window, "and the dog")
    reply = MessageRepository(database).get(finished.args[0])
    trace = TraceRepository(database).get(finished.args[0])
    assert reply is not None and reply.stats is not None and trace is not None
    phases = trace.phases
    # Restored when Enter came first, else ahead by the opened chat's warm (the test below).
    assert phases["kept_state"] in (KeptState.RESTORED, KeptState.RESTORED_AHEAD)
    restored = phases["tokens_restored"]
    assert isinstance(restored, int) and restored >= 300
    # Only the new message and its turn's template text were read (some of it maybe while
    # it was typed: the opened chat's warm carries the text typed by then).
    typed = int(phases.get("tokens_typed_ahead", 0))
    assert reply.stats.prompt_tokens_evaluated <= 24
    assert reply.stats.prompt_tokens - restored - typed == reply.stats.prompt_tokens_evaluated


def test_opening_a_chat_with_a_kept_state_restores_it_before_enter(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, database = make_app(tiny_model, n_ctx=1024, max_tokens=8)
    window.message_input.setPlainText(HISTORY)
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
        qtbot.keyClick(window.message_input, Qt.Key.Key_Return)
    conversation = controller.current_conversation
    assert conversation is not None
    controller.shutdown()
    database.close()

    # Hearth starts again with the chat open: once the model is loaded, one warm goes out.
    window, controller, database = make_app(tiny_model, n_ctx=1024, max_tokens=8)
    sent = record_requests(controller, monkeypatch)
    client = controller.session.local
    with qtbot.waitSignal(client.warmed, timeout=REPLY_MS) as warmed:
        pass
    answer = warmed.args[1]
    assert answer.kept_state == KeptState.RESTORED and answer.tokens_restored >= 300
    with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS) as finished:
        type_and_send(qtbot, window, "and the dog")
    warms = [r for r in sent if isinstance(r, WarmRequest)]
    (turn,) = list(generated(sent))
    assert len(warms) == 1
    # The chat's own key and exactly the messages its turn was built from, before the turn.
    assert warms[0].state_key == turn.state_key == chat_state_key(conversation)
    assert warms[0].messages == turn.messages[:-1]
    reply = MessageRepository(database).get(finished.args[0])
    trace = TraceRepository(database).get(finished.args[0])
    assert reply is not None and reply.stats is not None and trace is not None
    phases = trace.phases
    assert phases["kept_state"] == KeptState.RESTORED_AHEAD
    assert phases["tokens_restored"] == answer.tokens_restored
    assert phases["restore_ms"] == pytest.approx(answer.restore_ms)
    assert reply.stats.prompt_tokens_evaluated <= 24
    assert reply.stats.prompt_tokens - answer.tokens_restored == reply.stats.prompt_tokens_evaluated


def test_switching_chats_quickly_warms_only_the_last_one(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    chats = []
    for text in ("first chat", "second chat"):
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS):
            type_and_send(qtbot, window, text)
        chats.append(controller.current_conversation)
    sent = record_requests(controller, monkeypatch)
    with qtbot.waitSignal(controller.warming.sent, timeout=REPLY_MS) as warm:
        controller.open_conversation(chats[1])
        controller.open_conversation(chats[0])
        controller.open_conversation(chats[1])
    assert warm.args[1] == chats[1]
    assert not controller.warming.pending  # no other warm follows
    warms = [r for r in sent if isinstance(r, WarmRequest)]
    assert [r.state_key for r in warms] == [chat_state_key(chats[1])]
