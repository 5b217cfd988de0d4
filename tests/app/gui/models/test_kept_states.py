"""The Models page's line about kept conversation states (issue 13): what they take, read when
the page is shown and when a state lands; Clear; the budget, saved and applied at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.chat.state_keys import chat_state_key
from app.config.paths import resolve_paths
from app.config.settings import Settings, load_settings
from app.gui.models.kept_states import KeptStatesPresenter
from app.gui.settings_store import SettingsStore
from tests.support.app_parts import AppParts
from tests.support.kept_state_seeds import seed_state
from ui.models.kept_states import CLEAR_TIP, KeptStatesLine

MakeApp = Callable[..., AppParts]
MIB = 1 << 20
GIB = 1 << 30


class Line:
    """The line on its own page, its presenter, and the folder and settings it works on."""

    def __init__(self, qtbot: QtBot, folder: Path, store: SettingsStore) -> None:
        self.page = QWidget()
        qtbot.addWidget(self.page)
        self.widget = KeptStatesLine(self.page)
        self.presenter = KeptStatesPresenter(self.widget, store, folder)
        self.folder = folder
        self.store = store

    def wait_text(self, qtbot: QtBot, wanted: str) -> None:
        qtbot.waitUntil(lambda: self.widget.text() == wanted)


@pytest.fixture
def line(qtbot: QtBot, tmp_path: Path) -> Iterator[Line]:
    store = SettingsStore(tmp_path / "settings.json", Settings())
    made = Line(qtbot, tmp_path / "kv_states", store)
    yield made
    made.presenter.shutdown(time.monotonic() + 5)


def test_the_models_page_shows_what_kept_states_take_when_it_is_shown(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, _chat, _db = make_app(tiny_model, n_ctx=512, max_tokens=4, pages=True)
    folder = resolve_paths().kv_states_dir
    seed_state(folder, chat_state_key(1), 700 * MIB)
    seed_state(folder, chat_state_key(2), 500 * MIB)
    widget = window.findChild(KeptStatesLine)
    assert widget is not None and not widget.isVisible()  # on the Models page, not shown yet
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)  # Models
    qtbot.waitUntil(lambda: "1.2 GiB" in widget.text())
    assert widget.isVisible()
    assert widget.text() == "Kept conversation states: 1.2 GiB of 4.0 GiB"
    assert "2 conversations" in widget.usage_label.toolTip()


def test_a_state_written_while_the_line_is_shown_appears_without_asking(
    qtbot: QtBot, line: Line
) -> None:
    """What happens just after a reply: the engine writes its chat's state."""
    line.page.show()
    line.wait_text(qtbot, "Kept conversation states: 0 B of 4.0 GiB")
    seed_state(line.folder, chat_state_key(7), 300 * MIB)
    line.wait_text(qtbot, "Kept conversation states: 300.0 MiB of 4.0 GiB")


def test_clear_deletes_every_kept_state_and_says_what_it_does(qtbot: QtBot, line: Line) -> None:
    states = [seed_state(line.folder, chat_state_key(i), 100 * MIB) for i in range(3)]
    line.page.show()
    line.wait_text(qtbot, "Kept conversation states: 300.0 MiB of 4.0 GiB")
    button = line.widget.clear_button
    assert button.toolTip() == CLEAR_TIP and "chats stay" in CLEAR_TIP
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # no question asked: it is a cache
    line.wait_text(qtbot, "Kept conversation states: 0 B of 4.0 GiB")
    assert not any(path.exists() for path in states)
    qtbot.waitUntil(button.isEnabled)


def test_a_lower_budget_is_saved_and_the_least_recently_used_states_go_at_once(
    qtbot: QtBot, line: Line
) -> None:
    now = time.time()
    oldest, older, newest = (
        seed_state(line.folder, chat_state_key(i), 600 * MIB, used_at=now - 3600 * (3 - i))
        for i in range(3)
    )
    line.page.show()
    line.wait_text(qtbot, "Kept conversation states: 1.8 GiB of 4.0 GiB")
    box = line.widget.budget_box
    box.selectAll()
    qtbot.keyClicks(box, "1")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert line.store.settings.kv_states_budget_bytes == GIB
    assert load_settings(line.store.path).kv_states_budget_bytes == GIB
    line.wait_text(qtbot, "Kept conversation states: 600.0 MiB of 1.0 GiB")
    assert newest.exists() and not oldest.exists() and not older.exists()


def test_an_absurd_budget_in_the_settings_shows_as_what_applies(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = SettingsStore(tmp_path / "settings.json", Settings(kv_states_budget_bytes=-3))
    made = Line(qtbot, tmp_path / "kv_states", store)
    try:
        made.page.show()
        made.wait_text(qtbot, "Kept conversation states: 0 B of 0.0 GiB")
    finally:
        made.presenter.shutdown(time.monotonic() + 5)
