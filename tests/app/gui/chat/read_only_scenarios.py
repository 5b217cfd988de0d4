"""The chat with its data folder made read-only while it runs. Not collected on its own (the
name does not start with test_): test_read_only_data_folder.py runs this file with pytest in a
private mount namespace whose data folder sits on a tmpfs of its own ($HEARTH_OWN_DISK), so the
folder is made read-only for real (a read-only bind mount over it, which binds root too) and
nothing outside the test sees it. With $HEARTH_SHOTS set, the window is saved there."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from storage.chats import MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role
from tests.support.app_parts import MakeApp
from tests.support.chat_window import bar_text, type_and_send
from ui.main_window import MainWindow

_DISK = os.environ.get("HEARTH_OWN_DISK", "")
pytestmark = pytest.mark.skipif(not _DISK, reason="runs inside test_read_only_data_folder.py")
REPLY_MS = 30_000


def shot(window: MainWindow, name: str) -> None:
    folder = os.environ.get("HEARTH_SHOTS")
    if folder:
        window.resize(900, 600)
        QApplication.processEvents()  # the layout follows a bar shown or hidden
        window.grab().save(str(Path(folder) / f"{name}.png"))


@pytest.fixture
def own_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's data folder, on the disk of its own."""
    home = Path(tempfile.mkdtemp(dir=_DISK))
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


@contextmanager
def read_only(folder: Path, database: Database) -> Iterator[None]:
    """`folder` read-only for every file opened in it from now on: a read-only bind mount of
    it over itself. Files open already keep writing (the kernel refuses to make a busy mount
    read-only), so the app's database connections are closed first: the ones it opens next
    meet the read-only folder, as they would after the disk was remounted read-only."""
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
    try:
        database.close()  # the pool opens fresh connections on the next session
        yield
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def test_a_send_into_a_read_only_folder_says_so_keeps_the_text_and_works_once_writable(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, own_home: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=8, temperature=0.0)
    type_and_send(qtbot, window, "first question")
    qtbot.waitUntil(lambda: not controller.generating, timeout=REPLY_MS)
    cid = controller.current_conversation
    assert cid is not None
    saved = MessageRepository(db).active_path(cid)
    assert [m.role for m in saved] == [Role.USER, Role.ASSISTANT]

    with read_only(own_home, db):
        type_and_send(qtbot, window, "second question")
        qtbot.waitUntil(window.error_bar.isVisible)
        message = bar_text(window.error_bar)
        shot(window, "read_only_send")
        assert "read-only" in message and str(own_home) in message, message
        assert window.message_input.toPlainText() == "second question"
        assert not controller.generating

    # Writable again: nothing saved was lost, and the same text is sent as it stands.
    assert MessageRepository(db).active_path(cid) == saved
    type_and_send(qtbot, window, "")
    assert bar_text(window.error_bar).startswith("Your chats are saved again.")
    qtbot.waitUntil(lambda: not controller.generating, timeout=REPLY_MS)
    path = MessageRepository(db).active_path(cid)
    assert [m.content for m in path[:3]] == [saved[0].content, saved[1].content, "second question"]
    assert path[-1].role is Role.ASSISTANT and path[-1].status is MessageStatus.COMPLETE
    assert window.message_input.toPlainText() == ""
    shot(window, "read_only_writable_again")
