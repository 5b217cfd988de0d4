"""A reply that failed, was stopped before its first token or was cut off never poisons the
chat: the next prompt still alternates user and assistant turns, which strict chat formats
(Gemma's) require. Real engine process, real SQLite file, real widgets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from inference.templates import BUILTIN_FORMATS
from storage.chats import MessageRepository
from storage.records import MessageStatus, Role
from tests.support.app_parts import AppParts
from tests.support.chat_window import bar_text, type_and_send

MakeApp = Callable[..., AppParts]


def _answer(qtbot: QtBot, controller: object, db: object, act: Callable[[], None]) -> object:
    """Do `act` (send, regenerate) and return the newest reply once it has ended, whether it
    ended well or not (so a failure shows at once rather than as a timeout)."""
    act()
    assert controller.generating  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)  # type: ignore[attr-defined]
    cid = controller.current_conversation  # type: ignore[attr-defined]
    return MessageRepository(db).active_path(cid)[-1]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def strict_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GGUF whose own template is the Gemma format, which refuses two user turns in a
    row (or a conversation that does not start with the user)."""
    from tests.support.tiny_gguf import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("strict") / "tiny-strict-turns.gguf",
        chat_template=BUILTIN_FORMATS["gemma"].template,
    )


def _store_broken_turns(messages: MessageRepository, conversation_id: int) -> None:
    """What the issue's chats held: a question whose reply was cancelled before it started
    (an empty error row), then one whose reply was cut off before its first token."""
    first = messages.add(conversation_id, Role.USER, "first question")
    failed = messages.start_reply(conversation_id, first.id)
    messages.finish_reply(failed.id, "", MessageStatus.ERROR, error="Cancelled before it started.")
    second = messages.add(conversation_id, Role.USER, "second question", parent_id=failed.id)
    cut = messages.start_reply(conversation_id, second.id)
    messages.finish_reply(cut.id, "", MessageStatus.INTERRUPTED, error="The engine stopped.")


def test_a_chat_with_empty_failed_replies_answers_regenerates_and_reopens(
    qtbot: QtBot, make_app: MakeApp, strict_model: Path
) -> None:
    window, controller, db = make_app(strict_model, n_ctx=1024, max_tokens=6)
    messages = MessageRepository(db)
    cid = controller.current_conversation
    assert cid is not None
    _store_broken_turns(messages, cid)
    controller.open_conversation(cid)

    reply = _answer(qtbot, controller, db, lambda: type_and_send(qtbot, window, "third question"))
    assert reply.status is MessageStatus.COMPLETE, reply
    assert "alternate" not in bar_text(window.error_bar)
    # The model saw every question, in one user turn (nothing the user typed is lost).
    assert reply.stats is not None and reply.stats.prompt_tokens > 0

    regenerated = _answer(
        qtbot, controller, db, lambda: window.chat_view.regenerateRequested.emit(reply.id)
    )
    assert regenerated.status is MessageStatus.COMPLETE, regenerated
    assert regenerated.id != reply.id

    # The stored history is untouched: the failed rows are still there to see.
    statuses = [m.status for m in messages.active_path(cid)]
    assert statuses[:4] == [
        MessageStatus.COMPLETE,
        MessageStatus.ERROR,
        MessageStatus.COMPLETE,
        MessageStatus.INTERRUPTED,
    ]


def test_the_same_chat_works_after_a_restart(
    qtbot: QtBot, make_app: MakeApp, strict_model: Path
) -> None:
    _window, first_controller, db = make_app(strict_model, n_ctx=1024, max_tokens=6)
    cid = first_controller.current_conversation
    assert cid is not None
    _store_broken_turns(MessageRepository(db), cid)
    first_controller.shutdown()
    db.close()

    window, controller, db = make_app(strict_model, n_ctx=1024, max_tokens=6)
    assert controller.current_conversation == cid  # the newest chat opens
    reply = _answer(qtbot, controller, db, lambda: type_and_send(qtbot, window, "are you back?"))
    assert reply.status is MessageStatus.COMPLETE, reply


def test_a_reply_stopped_before_its_first_token_leaves_only_the_question(
    qtbot: QtBot, make_app: MakeApp, strict_model: Path
) -> None:
    """Esc while the engine is busy with other work (a summary, here a long count): the
    user's message stays, no empty error row is stored or shown, nothing is said in red,
    and the next message is answered."""
    window, controller, db = make_app(strict_model, n_ctx=1024, max_tokens=6)
    messages = MessageRepository(db)
    controller.client.count_tokens("word " * 400_000)  # keeps the engine busy a while
    type_and_send(qtbot, window, "asked while busy")
    controller.stop()
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    cid = controller.current_conversation
    assert cid is not None
    path = messages.active_path(cid)
    assert [(m.role, m.content) for m in path] == [(Role.USER, "asked while busy")]
    assert not window.error_bar.isVisible()
    assert "Cancelled" not in window.chat_view.toPlainText()
    assert "Stopped before the reply began." in window.chat_view.toPlainText()
    assert "asked while busy" in window.chat_view.toPlainText()

    reply = _answer(qtbot, controller, db, lambda: type_and_send(qtbot, window, "and now?"))
    assert reply.status is MessageStatus.COMPLETE, reply


def test_the_budget_counts_what_a_chat_with_a_failed_reply_sends(
    qtbot: QtBot, make_app: MakeApp, strict_model: Path
) -> None:
    """The draft joins the unanswered question in the count as it does in the request."""
    window, controller, db = make_app(strict_model, n_ctx=1024, max_tokens=4)
    cid = controller.current_conversation
    assert cid is not None
    _store_broken_turns(MessageRepository(db), cid)
    controller.open_conversation(cid)
    budget = window.context_budget
    qtbot.keyClicks(window.message_input, "and the castle")
    qtbot.waitUntil(lambda: "of 1,024 tokens" in budget.text(), timeout=10_000)
    shown = int(budget.text().split()[2].replace(",", ""))
    with qtbot.waitSignal(controller.client.generationStarted, timeout=30_000) as started:
        window.message_input.request_send()
    assert started.args[1] == shown
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)


def test_an_engine_killed_before_the_first_token_leaves_a_chat_that_still_answers(
    qtbot: QtBot, make_app: MakeApp, strict_model: Path
) -> None:
    """The issue's "engine killed 0.3 s after Enter": the reply is kept as interrupted (it
    says why), and the next message is answered by a fresh engine."""
    import os
    import signal

    window, controller, db = make_app(strict_model, n_ctx=1024, max_tokens=6)
    controller.client.count_tokens("word " * 400_000)  # the reply waits behind this
    type_and_send(qtbot, window, "asked just before the crash")
    pid = controller.client.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    cid = controller.current_conversation
    assert cid is not None
    cut = MessageRepository(db).active_path(cid)[-1]
    assert (cut.role, cut.status, cut.content) == (Role.ASSISTANT, MessageStatus.INTERRUPTED, "")

    reply = _answer(qtbot, controller, db, lambda: type_and_send(qtbot, window, "still there?"))
    assert reply.status is MessageStatus.COMPLETE, reply


@pytest.mark.slow
def test_the_built_in_model_answers_a_chat_with_empty_failed_replies(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path
) -> None:
    window, controller, db = make_app(gemma_model, n_ctx=1024, max_tokens=4, temperature=0.0)
    cid = controller.current_conversation
    assert cid is not None
    _store_broken_turns(MessageRepository(db), cid)
    controller.open_conversation(cid)
    reply = _answer(qtbot, controller, db, lambda: type_and_send(qtbot, window, "Hello?"))
    assert reply.status is MessageStatus.COMPLETE, reply
    assert reply.content.strip()
