"""The window's menu bar (issue 15): five menus, every command reachable from the keyboard and
shown with its shortcut, Quit on Ctrl+Q through the close button's path, and the Edit
commands acting on the focused text field."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from storage.records import Role
from tests.support.factories import make_conversation, make_message, make_stats
from ui.dialogs.shortcuts_dialog import ShortcutsDialog, rows_from
from ui.main_window import MainWindow
from ui.menu_bar import plain_text

PAGES = ("Documents", "Translate", "Models", "Performance")


def make_window(qtbot: QtBot, pages: bool = True) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    if pages:
        for title in PAGES:
            window.add_page(title, QLabel(f"{title} page"))
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts need an active window
    window.message_input.setFocus()
    return window


def _mnemonic(text: str) -> str | None:
    stripped = text.replace("&&", "")
    index = stripped.find("&")
    return stripped[index + 1].lower() if 0 <= index < len(stripped) - 1 else None


def test_five_menus_each_command_with_an_alt_key_and_none_twice(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Edit", "&View", "&Chat", "&Help"]
    by_menu: dict[str, list[str]] = {}
    for title, action, _raw in window.menus.all_actions():
        assert _mnemonic(action.text()) is not None, f"{title} > {action.text()}: no Alt key"
        by_menu.setdefault(title, []).append(_mnemonic(action.text()) or "")
    for title, keys in by_menu.items():
        assert len(keys) == len(set(keys)), f"{title} menu: an Alt key used twice: {keys}"
    commands = {f"{t} > {plain_text(a)}" for t, a, _raw in window.menus.all_actions()}
    for expected in (
        "File > New chat",
        "File > Import chats",
        "File > Export this chat",
        "File > Quit",
        "Edit > Undo",
        "Edit > Select all",
        "Edit > Find in all chats",
        "Edit > Settings",
        "View > Chat",
        "View > Performance",
        "View > Show timing of last reply",
        "View > Zoom in",
        "Chat > Rename chat",
        "Chat > Presets",
        "Help > Keyboard shortcuts",
        "Help > About Hearth",
    ):
        assert expected in commands


def test_each_command_is_one_action_and_every_shortcut_is_used_once(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    actions = [a for _t, a, _raw in window.menus.all_actions()]
    assert len(actions) == len(set(actions))  # reused, never a second action per command
    keys = [k.toString() for a in actions for k in a.shortcuts()]
    assert len(keys) == len(set(keys)), keys
    shortcut = {plain_text(a): a.shortcut().toString() for a in actions}
    assert shortcut["Quit"] == "Ctrl+Q"
    assert shortcut["Settings"] == "Ctrl+,"
    assert shortcut["New chat"] == "Ctrl+N"
    assert shortcut["Find in all chats"] == "Ctrl+F"
    assert [shortcut[p] for p in ("Chat", *PAGES)] == [f"Ctrl+{n}" for n in range(1, 6)]
    assert shortcut["Zoom out"] == "Ctrl+-" and shortcut["Normal size"] == "Ctrl+0"


def test_ctrl_q_closes_the_window_as_its_close_button_does(qtbot: QtBot) -> None:
    """A close event, as the title bar's button sends: the app's event loop ends when its
    last window closes, and then it saves and stops the engine (tests/app/gui/test_quit.py
    runs that whole path)."""
    window = make_window(qtbot)
    closes = CloseEvents(window)
    qtbot.keyClick(window.message_input, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert closes.count == 1 and not window.isVisible()


class CloseEvents(QObject):
    def __init__(self, watched: QObject) -> None:
        super().__init__(watched)
        self.count = 0
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.count += 1
        return False


def test_pages_switch_from_the_view_menu_and_their_keys(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    qtbot.keyClick(window.message_input, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.tabText(window.pages.currentIndex()) == "Models"
    window.menus.page_actions[0].trigger()
    assert window.pages.currentIndex() == 0


def test_edit_commands_act_on_the_focused_text_field(qtbot: QtBot) -> None:
    window = make_window(qtbot, pages=False)
    box = window.message_input
    qtbot.keyClicks(box, "some words")
    menus = window.menus

    def choose(action: QAction) -> None:
        menus.edit.aboutToShow.emit()  # what opening the menu does
        assert action.isEnabled(), action.text()
        action.trigger()

    menus.edit.aboutToShow.emit()
    assert menus.undo_action.isEnabled() and not menus.copy_action.isEnabled()  # no selection
    choose(menus.select_all_action)
    assert box.textCursor().selectedText() == "some words"
    choose(menus.copy_action)
    assert QGuiApplication.clipboard().text() == "some words"
    choose(menus.cut_action)
    assert box.toPlainText() == ""
    choose(menus.undo_action)
    assert box.toPlainText() == "some words"
    choose(menus.redo_action)
    assert box.toPlainText() == ""
    choose(menus.paste_action)
    assert box.toPlainText() == "some words"
    # Read-only text (the transcript) can be copied, not changed.
    window.chat_view.setFocus()
    qtbot.waitUntil(window.chat_view.hasFocus)
    menus.edit.aboutToShow.emit()
    assert not menus.paste_action.isEnabled() and not menus.cut_action.isEnabled()
    # Their keys stay the text fields' own: a list keeps Ctrl+A and Ctrl+C.
    assert all(
        a.shortcutContext() == Qt.ShortcutContext.WidgetShortcut
        for a in (menus.copy_action, menus.select_all_action, menus.paste_action)
    )


def test_edit_undo_brings_back_a_deleted_chat_when_there_is_no_typing_to_undo(
    qtbot: QtBot,
) -> None:
    window = make_window(qtbot, pages=False)
    window.conversations.set_conversations([make_conversation(1, "a")])
    window.offer_undo("Chat deleted.")
    window.conversations.view.setFocus()
    window.menus.edit.aboutToShow.emit()
    assert window.menus.undo_action.isEnabled()
    with qtbot.waitSignal(window.undoDeleteRequested):
        window.menus.undo_action.trigger()
    assert not window.undo_bar.isVisible()


def test_show_timing_of_last_reply_opens_the_newest_timed_reply(qtbot: QtBot) -> None:
    window = make_window(qtbot, pages=False)
    window.menus.timing_action.trigger()
    assert "No reply" in window.statusBar().currentMessage()
    window.chat_view.set_messages(
        [
            make_message(1, Role.USER, "hi"),
            make_message(2, Role.ASSISTANT, "hello", stats=make_stats()),
            make_message(3, Role.USER, "more"),
            make_message(4, Role.ASSISTANT, "typed by hand, no stats"),
        ]
    )
    with qtbot.waitSignal(window.chat_view.timingRequested) as blocker:
        qtbot.keyClick(window.message_input, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == [2]


def test_the_shortcuts_list_is_every_menu_command_with_its_keys(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    actions = window.menus.all_actions()
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show_rows(rows_from(actions))
    rows = dialog.rows()
    assert len(rows) == len(actions)
    assert ("File", "Quit", "Ctrl+Q", "Alt+F, Q") in rows
    assert ("Edit", "Settings", "Ctrl+,", "Alt+E, S") in rows
    assert ("View", "Zoom in", "Ctrl++, Ctrl+=", "Alt+V, I") in rows
    assert ("Chat", "Stop the reply", "Esc", "Alt+C, S") in rows
    # An action added later (the API server's, say) is listed the next time it opens.
    extra = window.menus.add(window.menus.chat, "API &server…")
    dialog.show_rows(rows_from(window.menus.all_actions()))
    assert ("Chat", "API server", "", "Alt+C, A") in dialog.rows()  # S was taken
    extra.setVisible(False)
    dialog.filter.setText("zoom")
    shown = [r for r in range(dialog.table.rowCount()) if not dialog.table.isRowHidden(r)]
    assert {dialog.table.item(r, 1).text() for r in shown} == {
        "Zoom in",
        "Zoom out",
    }
