"""Chat on a disk that fills while a reply streams. Not collected on its own (the name does
not start with test_): test_full_disk_reply.py runs this file with pytest inside a private
mount namespace whose data folder is a small tmpfs ($HEARTH_SMALL_DISK), so the disk that
fills is real and nothing outside the test sees it. With $HEARTH_SHOTS set, the window is
saved there at each banner state."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.chat.recovery import open_chat_history
from storage.chats import MessageRepository
from storage.records import MessageRecord, MessageStatus, Role
from storage.traces import TraceRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import bar_text, type_and_send
from ui.main_window import MainWindow

MakeApp = Callable[..., AppParts]

_DISK = os.environ.get("HEARTH_SMALL_DISK", "")
pytestmark = pytest.mark.skipif(not _DISK, reason="runs inside test_full_disk_reply.py")


def fill(disk: Path) -> Path:
    """Write a file until the filesystem refuses another byte; returns it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 16, 1 << 10, 1):
            while True:
                try:
                    out.write(b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return filler


def shot(window: MainWindow, name: str) -> None:
    folder = os.environ.get("HEARTH_SHOTS")
    if folder:
        window.resize(900, 600)
        QApplication.processEvents()  # the layout follows a bar shown or hidden
        window.grab().save(str(Path(folder) / f"{name}.png"))


@pytest.fixture
def small_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's data folder on the small disk; the disk is emptied again afterwards."""
    home = Path(tempfile.mkdtemp(dir=_DISK))
    monkeypatch.setenv("HEARTH_HOME", str(home))
    yield home
    (Path(_DISK) / "filler").unlink(missing_ok=True)


def _reply_on_a_full_disk(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> tuple[AppParts, MessageRecord, Path]:
    """Send a message; the disk fills just after the reply's row is created, so neither its
    text nor its end can be saved. Returns the reply as stored then, and the filler."""
    parts = make_app(tiny_model, n_ctx=1024, max_tokens=48, temperature=0.0)
    window, controller, db = parts
    filled: list[Path] = []
    controller.replyRequested.connect(
        lambda _cid: filled or filled.append(fill(Path(_DISK)))  # the first reply only
    )
    type_and_send(qtbot, window, "tell me about the sea")
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    assert filled, "the reply was never requested"
    cid = controller.current_conversation
    assert cid is not None
    stored = MessageRepository(db).active_path(cid)[-1]
    assert stored.role is Role.ASSISTANT
    return parts, stored, filled[0]


def test_a_reply_ended_on_a_full_disk_is_saved_when_space_returns(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, small_home: Path
) -> None:
    (window, _controller, db), stored, filler = _reply_on_a_full_disk(qtbot, make_app, tiny_model)
    assert stored.status is MessageStatus.STREAMING  # the end could not be written
    bar = bar_text(window.error_bar)
    assert "disk is full" in bar and "saved as soon as" in bar, bar
    shown = window.chat_view.message_text(stored.id)
    assert "tok/s" in shown  # on screen the reply ended, with its stats
    shot(window, "disk_full_reply_kept")

    filler.unlink()  # space comes back; the retry timer saves the reply
    messages = MessageRepository(db)
    qtbot.waitUntil(
        lambda: messages.get(stored.id).status is MessageStatus.COMPLETE,  # type: ignore[union-attr]
        timeout=30_000,
    )
    saved = messages.get(stored.id)
    assert saved is not None and saved.content.strip() and saved.content.strip() in shown
    assert saved.stats is not None and saved.stats.completion_tokens > 0
    trace = TraceRepository(db).get(stored.id)  # its timings were kept with it
    assert trace is not None and trace.phases["prefill_ms"] > 0
    assert bar_text(window.error_bar).startswith("Your chats are saved again.")
    shot(window, "disk_full_saved_again")
    qtbot.waitUntil(lambda: not window.error_bar.isVisible(), timeout=30_000)  # goes by itself
    shot(window, "disk_full_after")


def test_the_next_message_saves_the_kept_reply_first(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, small_home: Path
) -> None:
    (window, controller, db), stored, filler = _reply_on_a_full_disk(qtbot, make_app, tiny_model)
    kept = window.chat_view.message_text(stored.id)
    filler.unlink()
    type_and_send(qtbot, window, "and the mountains?")  # before the retry timer fires
    reply = MessageRepository(db).get(stored.id)
    assert reply is not None and reply.status is MessageStatus.COMPLETE
    assert reply.content.strip() and reply.content.strip() in kept
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    cid = controller.current_conversation
    assert cid is not None
    path = MessageRepository(db).active_path(cid)
    assert [m.role for m in path] == [Role.USER, Role.ASSISTANT] * 2
    assert path[-1].status is MessageStatus.COMPLETE


def test_if_the_app_ends_first_the_reply_is_interrupted_at_the_next_start(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, small_home: Path
) -> None:
    (_window, controller, db), stored, filler = _reply_on_a_full_disk(qtbot, make_app, tiny_model)
    controller.shutdown()  # must not fail on the full disk
    assert not controller.client.running
    db.close()
    filler.unlink()
    reopened, _ = open_chat_history(db.path)
    try:
        again = MessageRepository(reopened).get(stored.id)
        assert again is not None and again.status is MessageStatus.INTERRUPTED
    finally:
        reopened.close()
