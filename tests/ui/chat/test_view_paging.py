"""Long chats: only the newest page is rendered; older pages come as the user scrolls up."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.chat.lazy_path import LazyPath
from storage.chats import MessageRepository
from storage.database import Database
from storage.records import MessageRecord, Role
from tests.support.factories import make_message
from tests.support.long_chat import insert_long_conversation
from ui.chat.view import ChatView
from ui.chat.view_paging import MAX_RENDERED, PAGE_SIZE


class CountingPath(Sequence[MessageRecord]):
    """A lazy path like the app's: records are made only when a slice is read."""

    def __init__(self, count: int) -> None:
        self.ids = list(range(1, count + 1))
        self.made = 0

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        ids = self.ids[index]
        if isinstance(ids, int):
            ids = [ids]
        self.made += len(ids)
        records = [
            make_message(i, Role.USER if i % 2 else Role.ASSISTANT, f"message number {i}")
            for i in ids
        ]
        return records if isinstance(index, slice) else records[0]


def shown_numbers(view: ChatView) -> list[int]:
    return [int(n) for n in re.findall(r"message number (\d+)", view.toPlainText())]


def test_a_long_chat_renders_only_its_newest_page(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    path = CountingPath(10_000)
    view.set_messages(path)
    assert shown_numbers(view) == list(range(10_000 - PAGE_SIZE + 1, 10_001))
    assert path.made == PAGE_SIZE  # the other 9,900 records were never even built
    assert view.earlier_count() == 10_000 - PAGE_SIZE and view.is_at_bottom()


def test_scrolling_to_the_top_brings_the_previous_page_and_keeps_the_view_still(
    qtbot: QtBot,
) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_messages(CountingPath(350))
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    top_before = view.cursorForPosition(view.viewport().rect().topLeft()).block().text()
    bar.triggerAction(bar.SliderAction.SliderToMinimum)  # as the user does (Ctrl+Home, drag)
    qtbot.waitUntil(lambda: view.earlier_count() == 350 - 2 * PAGE_SIZE)
    assert shown_numbers(view) == list(range(350 - 2 * PAGE_SIZE + 1, 351))
    qtbot.waitUntil(lambda: bar.value() > 0)  # the same text is still on screen, not page 1
    top_after = view.cursorForPosition(view.viewport().rect().topLeft()).block().text()
    assert top_after == top_before
    while view.load_earlier():
        pass
    assert shown_numbers(view) == list(range(1, 351))  # every message once, in order


def test_jumping_to_an_old_message_loads_the_pages_up_to_it(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_messages(CountingPath(1_000))
    assert view.scroll_to_message(42)
    assert not view.textCursor().hasSelection()  # brought into view, not selected
    top = view.cursorForPosition(view.viewport().rect().topLeft()).block().text()
    assert top in view.message_text(42)
    assert shown_numbers(view)[0] <= 42 and not view.is_at_bottom()
    assert not view.scroll_to_message(5_000)  # not in this chat


def test_a_reply_streams_correctly_while_older_pages_are_added_above(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_messages(CountingPath(250))
    view.begin_reply(9_999)
    view.append_delta("First paragraph of the reply.\n\n")
    view.load_earlier()
    view.append_delta("Second paragraph ")
    view.append_delta("continues here.\n\n")
    view.finish_reply(
        make_message(
            9_999,
            Role.ASSISTANT,
            "First paragraph of the reply.\n\nSecond paragraph continues here.",
        )
    )
    text = view.toPlainText()
    assert text.count("First paragraph of the reply.") == 1
    assert "Second paragraph continues here." in text
    assert shown_numbers(view)[0] == 250 - 2 * PAGE_SIZE + 1


# ---- a huge chat from a real database: the document stays a bounded window -----------------

LONG = 1_500


@pytest.fixture
def long_chat(tmp_path: Path) -> Iterator[LazyPath]:
    database, _ = Database.open(tmp_path / "hearth.db")
    conversation_id = insert_long_conversation(database, LONG)
    yield LazyPath(MessageRepository(database), conversation_id)
    database.close()


def _opened(qtbot: QtBot, path: Sequence[MessageRecord]) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_messages(path)
    qtbot.waitUntil(lambda: view.verticalScrollBar().maximum() > 0)
    return view


def _top_line(view: ChatView) -> str:
    """The text line at the top edge of the viewport: what the user is looking at."""
    return view.cursorForPosition(view.viewport().rect().topLeft()).block().text()


def _page_up_to_the_top(qtbot: QtBot, view: ChatView) -> None:
    """Drag to the top once, as the user does, and wait for the previous page."""
    left = view.earlier_count()
    before = _top_line(view)
    bar = view.verticalScrollBar()
    bar.triggerAction(bar.SliderAction.SliderToMinimum)
    qtbot.waitUntil(lambda: view.earlier_count() < left)
    qtbot.waitUntil(lambda: bar.value() > 0 and _top_line(view) == before)


def _page_down_to_the_bottom(qtbot: QtBot, view: ChatView) -> None:
    left = view.later_count()
    bar = view.verticalScrollBar()
    bar.triggerAction(bar.SliderAction.SliderToMaximum)
    before = _top_line(view)
    qtbot.waitUntil(lambda: view.later_count() < left)
    qtbot.waitUntil(lambda: bar.value() < bar.maximum() and _top_line(view) == before)


def test_scrolling_through_a_huge_chat_keeps_the_document_bounded_and_the_view_still(
    qtbot: QtBot, long_chat: LazyPath
) -> None:
    view = _opened(qtbot, long_chat)
    blocks_per_page = view.document().blockCount() / PAGE_SIZE
    while view.earlier_count():
        _page_up_to_the_top(qtbot, view)
        assert view.rendered_count() <= MAX_RENDERED
        assert view.document().blockCount() <= blocks_per_page * MAX_RENDERED * 1.2
    numbers = shown_numbers(view)
    assert numbers == list(range(1, MAX_RENDERED + 1))  # the oldest ones, in order, once
    assert view.later_count() == LONG - MAX_RENDERED and not view.is_at_bottom()

    while view.later_count():
        _page_down_to_the_bottom(qtbot, view)
        assert view.rendered_count() <= MAX_RENDERED
    assert shown_numbers(view) == list(range(LONG - MAX_RENDERED + 1, LONG + 1))
    bar = view.verticalScrollBar()
    bar.triggerAction(bar.SliderAction.SliderToMaximum)
    assert view.is_at_bottom() and view.follows_end()
    assert f"message number {LONG} " in view.message_text(long_chat.ids[-1])
    assert "Regenerate" in view.message_text(long_chat.ids[-1])  # still the newest reply


def test_a_reply_streaming_while_the_user_reads_far_up_is_never_lost(
    qtbot: QtBot, long_chat: LazyPath
) -> None:
    view = _opened(qtbot, long_chat)
    view.begin_reply(99_999)
    view.append_delta("The first part of the reply.\n\n")
    while view.later_count() < 2 * PAGE_SIZE:  # far enough up that the end was dropped
        _page_up_to_the_top(qtbot, view)
    view.append_delta("A second part, streamed ")
    view.append_delta("out of sight.\n\n")
    assert "streamed out of sight" not in view.toPlainText()
    while view.later_count():  # back down: the reply comes back with what it has so far
        _page_down_to_the_bottom(qtbot, view)
    assert "A second part, streamed out of sight." in view.toPlainText()
    view.append_delta("And the end.")
    final = "The first part of the reply.\n\nA second part, streamed out of sight.\n\nAnd the end."
    view.finish_reply(make_message(99_999, Role.ASSISTANT, final))
    text = view.toPlainText()
    assert text.count("The first part of the reply.") == 1 and "And the end." in text


def test_a_reply_finished_out_of_sight_is_there_when_the_user_sends_again(
    qtbot: QtBot, long_chat: LazyPath
) -> None:
    view = _opened(qtbot, long_chat)
    view.begin_reply(99_999)
    while view.later_count() < 2 * PAGE_SIZE:
        _page_up_to_the_top(qtbot, view)
    view.append_delta("Written while the user read old messages.")
    view.finish_reply(
        make_message(99_999, Role.ASSISTANT, "Written while the user read old messages.")
    )
    view.append_message(make_message(100_000, Role.USER, "thanks, one more question"))
    text = view.toPlainText()
    assert text.count("Written while the user read old messages.") == 1
    assert text.index("Written while the user") < text.index("thanks, one more question")
    assert "thanks, one more question" in view.message_text(100_000)
    assert view.is_at_bottom() and view.later_count() == 0
