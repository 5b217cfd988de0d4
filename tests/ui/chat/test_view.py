from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QTextCursor, QTextDocument
from PySide6.QtWidgets import QAbstractSlider, QApplication
from pytestqt.qtbot import QtBot

from storage.records import MessageStatus, Role
from tests.support.factories import make_message, make_stats
from ui.chat.message_html import header_html
from ui.chat.view import ChatView
from ui.markdown.render import render_markdown

REPLY = (
    "# Plan\n\n"
    "Some words with **bold** and `inline code`.\n\n"
    "- first item\n- second item\n\n"
    "```python\ndef greet(name):\n\n\n    return f'hello {name}'\n```\n\n"
    "| col | val |\n|-----|-----|\n| a   | 1   |\n\n"
    "1. one\n2. two\n\n"
    "Closing sentence here"
)


def rendered_reply(markdown: str) -> str:
    """What a finished assistant message shows, rendered in one go in a fresh document."""
    doc = QTextDocument()
    doc.setHtml(header_html(Role.ASSISTANT) + render_markdown(markdown))
    return doc.toPlainText()


def make_view(qtbot: QtBot, *, shown: bool = True) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    if shown:
        view.show()
    return view


def stream(view: ChatView, text: str, step: int) -> None:
    for i in range(0, len(text), step):
        view.append_delta(text[i : i + step])
        QApplication.processEvents()


def test_set_messages_shows_roles_bodies_stats_and_links(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages(
        [
            make_message(1, Role.USER, "Hi **there**"),
            make_message(2, Role.ASSISTANT, "Hello", stats=make_stats()),
            make_message(3, Role.USER, "again"),
            make_message(4, Role.ASSISTANT, "cut", status=MessageStatus.INTERRUPTED),
            make_message(5, Role.ASSISTANT, "", status=MessageStatus.ERROR, error="out of memory"),
        ]
    )
    text = view.toPlainText()
    assert "You\nHi there" in text
    assert (
        "12.3 tok/s · engine 245 ms to first token · 31 tokens · prompt 120 (evaluated 96) · "
        "prefill 850 tok/s · stop: eos"
    ) in text
    assert "Interrupted — the reply was cut off" in text
    assert "Error: out of memory" in text
    html = view.toHtml()
    assert "hearth://copy/2" in html
    # Only the last assistant message offers Regenerate.
    assert "hearth://regenerate/5" in html
    assert "hearth://regenerate/2" not in html and "hearth://regenerate/4" not in html
    assert "Regenerate" not in view.message_text(2)


def test_streaming_renders_finished_blocks_and_matches_final(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages([make_message(1, Role.USER, "plan please")])
    view.begin_reply(2)
    stream(view, REPLY, step=3)
    assert view.reply_text() == REPLY
    streamed = view.message_text(2)
    assert streamed == rendered_reply(REPLY)
    assert "def greet(name):\n\n\n    return f'hello {name}'" in streamed
    assert "# Plan" not in streamed and "**" not in streamed  # finished blocks rendered

    view.finish_reply(make_message(2, Role.ASSISTANT, REPLY, stats=make_stats()))
    final = view.message_text(2)
    assert final.startswith(streamed)
    assert final.endswith("stop: eos\nCopy · Regenerate · Timing")
    # The user's message is untouched.
    assert view.message_text(1) == "You\nplan please\nEdit"


BLOCKS = {
    "para": "Some **bold** words.",
    "list": "- a\n- b",
    "olist": "1. x\n2. y",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "code": "```py\nx = 1\n\ny = 2\n```",
    "heading": "## Head",
    "quote": "> quoted\n> more",
    "rule": "---",
}


@pytest.mark.parametrize("first", list(BLOCKS))
def test_streamed_structure_equals_final_for_every_block_pair(qtbot: QtBot, first: str) -> None:
    view = make_view(qtbot, shown=False)
    for second in BLOCKS:
        text = f"{BLOCKS[first]}\n\n{BLOCKS[second]}\n\nEnd"
        view.set_messages([])
        view.begin_reply(1)
        stream(view, text, step=4)
        streamed = view.message_text(1)
        view.finish_reply(make_message(1, Role.ASSISTANT, text))
        assert view.message_text(1) == streamed + "\nCopy · Regenerate", (first, second)


def test_streaming_does_not_move_the_users_selection(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages([make_message(1, Role.USER, "select me please")])
    cursor = view.textCursor()
    cursor.setPosition(5)
    cursor.setPosition(10, QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    selected = view.textCursor().selectedText()
    view.begin_reply(2)
    stream(view, REPLY, step=5)
    assert view.textCursor().selectedText() == selected


def test_autoscroll_only_when_already_at_bottom(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    history = [make_message(i, Role.USER, f"message {i}\n\nline") for i in range(1, 60)]
    view.set_messages(history)
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    view.begin_reply(100)
    stream(view, "word " * 50 + "\n\n" + "more " * 50, step=20)
    assert bar.value() == bar.maximum()
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)  # the user scrolls up
    assert not view.follows_end()
    stream(view, "\n\nyet more text " * 20, step=20)
    assert bar.value() == 0
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)  # and back down
    stream(view, "\n\nand the end " * 20, step=20)
    assert bar.value() == bar.maximum()


def test_copy_link_puts_raw_markdown_on_clipboard(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages([make_message(7, Role.ASSISTANT, "**raw** `md`")])
    view.anchorClicked.emit(QUrl("hearth://copy/7"))
    assert QGuiApplication.clipboard().text() == "**raw** `md`"
    assert view.message_text(7).endswith("Copied ✓ · Regenerate")


def test_copy_says_copied_under_the_message_for_a_moment(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages([make_message(1, Role.USER, "q"), make_message(7, Role.ASSISTANT, "a")])
    view.anchorClicked.emit(QUrl("hearth://copy/7"))
    assert view.message_text(7).endswith("Copied ✓ · Regenerate")
    assert "hearth://copy/7" not in view.toHtml()  # not a link while it says so
    qtbot.waitUntil(lambda: view.message_text(7).endswith("Copy · Regenerate"), timeout=10_000)
    assert "hearth://copy/7" in view.toHtml()


def test_copy_feedback_leaves_a_streaming_reply_intact(qtbot: QtBot) -> None:
    """The feedback re-renders a message above the reply being written: the reply's text must
    keep arriving where it belongs."""
    view = make_view(qtbot)
    view.set_messages([make_message(1, Role.USER, "q"), make_message(2, Role.ASSISTANT, "a")])
    view.begin_reply(3)
    stream(view, "first part, ", step=3)
    view.anchorClicked.emit(QUrl("hearth://copy/2"))
    stream(view, "second part", step=3)
    assert view.message_text(3).endswith("first part, second part")
    qtbot.waitUntil(lambda: view.message_text(2).endswith("Copy"), timeout=10_000)
    stream(view, " and more", step=3)
    assert view.message_text(3).endswith("first part, second part and more")


def test_copy_while_streaming_copies_text_so_far(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.begin_reply(3)
    view.append_delta("# partial\n\nreply")
    view.anchorClicked.emit(QUrl("hearth://copy/3"))
    assert QGuiApplication.clipboard().text() == "# partial\n\nreply"


def test_regenerate_link_emits_request(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages([make_message(1, Role.USER, "q"), make_message(2, Role.ASSISTANT, "a")])
    with qtbot.waitSignal(view.regenerateRequested) as blocker:
        view.anchorClicked.emit(QUrl("hearth://regenerate/2"))
    assert blocker.args == [2]


def test_only_web_links_are_opened_and_only_on_click(qtbot: QtBot, opened_urls: list[str]) -> None:
    view = make_view(qtbot)
    opened = opened_urls  # what the view handed to the desktop to open
    view.set_messages([make_message(1, Role.ASSISTANT, "[site](https://example.org)")])
    assert opened == []
    for url in ("https://example.org", "file:///etc/passwd", "javascript:alert(1)", "x.html"):
        view.anchorClicked.emit(QUrl(url))
    assert opened == ["https://example.org"]
    assert view.source().isEmpty()  # the view never navigated


def test_new_reply_moves_regenerate_to_it(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_messages([make_message(1, Role.USER, "q"), make_message(2, Role.ASSISTANT, "a")])
    view.append_message(make_message(3, Role.USER, "again"))
    view.begin_reply(4)
    assert "hearth://regenerate/2" not in view.toHtml()
    view.append_delta("second answer")
    view.finish_reply(make_message(4, Role.ASSISTANT, "second answer"))
    assert "hearth://regenerate/4" in view.toHtml()
    assert view.message_text(2) == "Assistant\na\nCopy"


def test_notice_is_appended(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.begin_reply(1)
    view.append_delta("half")
    view.show_notice("The engine stopped unexpectedly; it is restarting.")
    view.append_delta(" more")
    text = view.toPlainText()
    assert text.index("half more") < text.index("The engine stopped unexpectedly")


def test_resources_are_never_loaded(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    assert view.loadResource(2, QUrl("file:///etc/passwd")) is None


def test_pin_regression_many_qt_calls_keep_none_alive(qtbot: QtBot) -> None:
    """PySide6 6.12.0 on Python 3.11 drops None's refcount once per void Qt call and aborts
    after a few thousand (none_dealloc). This drives >10,000 calls through the streaming path.
    Hidden, so the run measures Qt calls rather than 12,000 offscreen repaints."""
    view = make_view(qtbot, shown=False)
    view.begin_reply(1)
    pieces = [f"w{i} " if i % 50 else f"w{i}\n\n" for i in range(12_000)]
    before = sys.getrefcount(None)
    app = QApplication.instance()
    assert app is not None
    for piece in pieces:
        view.append_delta(piece)
        app.processEvents()
    after = sys.getrefcount(None)
    assert after >= before - 100, f"None refcount fell from {before} to {after}"
    assert view.reply_text() == "".join(pieces)
    assert view.message_text(1).split() == ["Assistant"] + [p.strip() for p in pieces]
