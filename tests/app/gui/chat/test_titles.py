"""Automatic chat titles: asked of the loaded model in the background, cleaned, and never
written over a title the user typed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.config.settings import load_settings
from app.gui.chat.titles import INSTRUCTION, TITLE_TOKENS, clean_title
from inference.protocol import ChatMessage, Priority
from storage.chats import ConversationRepository
from storage.records import TitleSource
from tests.support.app_parts import AppParts
from tests.support.chat_window import type_and_send
from tests.support.engine_requests import generated, record_requests
from tests.support.title_requests import TitleRequests
from ui.chat.conversation_list import ID_ROLE

MakeApp = Callable[..., AppParts]


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ("Planning a trip to Lisbon", "Planning a trip to Lisbon"),
        ('"Planning a Trip"', "Planning a Trip"),
        ("“Sourdough basics.”\n\nHere is why I chose it…", "Sourdough basics"),
        ("**Title:** _Tax questions_", "Tax questions"),
        ("# Garden plans\n", "Garden plans"),
        ("\n\n  - Moving house  \n", "Moving house"),
        ("<think>the user asks about cats</think>Cat care", "Cat care"),
        ("Don't panic: towels", "Don't panic: towels"),
        ("word " * 30, "word word word word word word word word word…"),
        ("", "first words"),
        ("   \n\t", "first words"),
        ("!!! ??? ...", "first words"),
        ("\ufffd\ufffd\x00\x07", "first words"),
    ],
)
def test_a_model_s_answer_becomes_a_clean_one_line_title(answer: str, title: str) -> None:
    cleaned = clean_title(answer, "first words")
    assert cleaned == title
    assert "\n" not in cleaned and len(cleaned) <= 48


def rename_in_sidebar(window: object, conversation_id: int, title: str) -> None:
    """What the sidebar's in-place editor does when the user types a title and presses Enter."""
    model = window.conversations.model  # type: ignore[attr-defined]
    row = next(r for r in range(model.rowCount()) if model.item(r).data(ID_ROLE) == conversation_id)
    model.item(row).setText(title)


def test_when_turned_on_the_model_names_the_chat_after_the_first_exchange(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6)
    assert not window.auto_title_action.isChecked()  # off until the user turns it on
    window.auto_title_action.trigger()
    assert load_settings(resolve_paths().settings_file).auto_titles
    sent = record_requests(controller, monkeypatch)
    titles = TitleRequests(controller, monkeypatch)

    type_and_send(qtbot, window, "hello world")
    answered, done = titles.wait_answered(qtbot)
    cid, answer = controller.current_conversation, done.text
    assert cid is not None
    chat_turn, title_request = generated(sent)
    assert title_request == answered
    # Background, short, and the chat's own prompt first, so its cached prefix is reused.
    assert title_request.priority == Priority.BACKGROUND
    assert title_request.max_tokens == TITLE_TOKENS
    assert (chat_turn.work, title_request.work) == ("chat", "title")  # issue 13: named
    assert title_request.messages[: len(chat_turn.messages)] == chat_turn.messages
    assert title_request.messages[-1] == ChatMessage("user", INSTRUCTION)
    assert len(title_request.messages) == len(chat_turn.messages) + 2  # + reply + instruction

    expected = clean_title(answer, "hello world")
    record = ConversationRepository(db).get(cid)
    assert record is not None and record.title == expected
    assert window.conversations.title_of(cid) == expected
    if expected != "hello world":
        assert record.title_source is TitleSource.MODEL
    assert controller.titles.pending == {}

    # The title reused the chat's evaluated prefix, and the next turn still reuses it.
    title_stats = done.stats
    assert title_stats.prompt_tokens_evaluated < title_stats.prompt_tokens
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as next_reply:
        type_and_send(qtbot, window, "and more")
    reply = controller.messages.get(next_reply.args[0])
    assert reply is not None and reply.stats is not None
    assert reply.stats.prompt_tokens_evaluated < reply.stats.prompt_tokens
    if record.title_source is TitleSource.MODEL:  # named once: not asked again
        assert controller.titles.pending == {}


def test_when_off_no_title_is_asked_for(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6)
    sent = record_requests(controller, monkeypatch)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "hello world")
    assert controller.titles.pending == {}
    assert len(list(generated(sent))) == 1  # the reply only
    record = ConversationRepository(db).get(controller.current_conversation)  # type: ignore[arg-type]
    assert record is not None and record.title == "hello world"
    assert record.title_source is TitleSource.AUTO


def test_a_title_the_user_types_while_the_model_answers_is_kept(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6, auto_titles=True)
    assert window.auto_title_action.isChecked()

    def rename() -> None:
        rename_in_sidebar(window, controller.current_conversation, "My own title")

    # The user renames the chat right after the title request went out.
    titles = TitleRequests(controller, monkeypatch, right_after=rename)
    type_and_send(qtbot, window, "hello world")
    titles.wait_answered(qtbot)
    cid = controller.current_conversation
    assert cid is not None
    record = ConversationRepository(db).get(cid)
    assert record is not None
    assert (record.title, record.title_source) == ("My own title", TitleSource.USER)
    assert window.conversations.title_of(cid) == "My own title"


def test_the_next_message_goes_before_a_pending_title(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=6, auto_titles=True)
    replies: list[int] = []
    controller.replyFinished.connect(replies.append)
    # The user's next message is sent the moment the title request is: it cancels it.
    sent: list[str] = []

    def interrupt() -> None:
        # Once: the second reply asks for a title again, and must not send a third message.
        if not sent:
            sent.append("next question")
            controller.send("next question")

    _titles = TitleRequests(controller, monkeypatch, right_after=interrupt)
    type_and_send(qtbot, window, "hello world")
    qtbot.waitUntil(lambda: len(replies) == 2, timeout=30_000)
    cid = controller.current_conversation
    assert cid is not None
    assert [m.content for m in controller.messages.active_path(cid)][::2] == [
        "hello world",
        "next question",
    ]
    assert not window.error_bar.isVisible()


def test_a_title_typed_before_the_first_message_is_never_replaced(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=6, auto_titles=True)
    cid = controller.current_conversation
    assert cid is not None
    rename_in_sidebar(window, cid, "Taxes 2026")
    titles = TitleRequests(controller, monkeypatch)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "what can I deduct?")
    assert titles.sent == []  # no title was asked for
    record = ConversationRepository(db).get(cid)
    assert record is not None
    assert (record.title, record.title_source) == ("Taxes 2026", TitleSource.USER)
    assert window.conversations.title_of(cid) == "Taxes 2026"


def test_the_chat_and_the_titles_share_the_settings_so_neither_save_loses_the_other(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """The context policy (the chat's) and automatic titles (the titler's) are saved by
    different presenters into one file: each change keeps the other's, on disk and in use."""
    window, controller, _db = make_app(tiny_model, n_ctx=1024, max_tokens=6)
    box = window.context_policy
    box.activated.emit(box.findData("keep_ends"))  # the user picks it in the combo box
    window.auto_title_action.trigger()
    saved = load_settings(resolve_paths().settings_file)
    assert (saved.context_policy, saved.auto_titles) == ("keep_ends", True)
    assert controller.store.settings == saved

    window.auto_title_action.trigger()
    box.activated.emit(box.findData("ask"))
    saved = load_settings(resolve_paths().settings_file)
    assert (saved.context_policy, saved.auto_titles) == ("ask", False)
    assert controller.store.settings == saved
