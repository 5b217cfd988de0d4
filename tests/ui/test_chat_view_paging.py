"""Long chats: only the newest page is rendered; older pages come as the user scrolls up."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pytestqt.qtbot import QtBot

from storage.records import MessageRecord, Role
from tests.ui.factories import make_message
from ui.chat_view import PAGE_SIZE, ChatView


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
    assert "message number 42" in view.textCursor().selectedText()
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
