"""The window's menu bar (issue 15): File, Edit, View, Chat, Help, and the commands every
desktop app has (Quit, the text commands, pages, zoom, Settings, About). The main window adds
its own chat commands to these menus; another part may add to any menu later (a menu is a
public attribute). GUI thread only.

The text commands (Undo … Select all) act on the focused text field. Their shortcuts are
shown in the menu but left to the text fields themselves, which have them built in: as
window-wide shortcuts they would take Ctrl+C or Ctrl+A from lists and tables.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QMenu,
    QMenuBar,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

Keys = QKeySequence | QKeySequence.StandardKey | str
TextField = QLineEdit | QTextEdit | QPlainTextEdit
# (attribute, menu text, shortcut, method of the text field); None: a separator.
_TEXT_COMMANDS: tuple[tuple[str, str, QKeySequence.StandardKey, str] | None, ...] = (
    ("undo_action", "&Undo", QKeySequence.StandardKey.Undo, "undo"),
    ("redo_action", "&Redo", QKeySequence.StandardKey.Redo, "redo"),
    None,
    ("cut_action", "Cu&t", QKeySequence.StandardKey.Cut, "cut"),
    ("copy_action", "&Copy", QKeySequence.StandardKey.Copy, "copy"),
    ("paste_action", "&Paste", QKeySequence.StandardKey.Paste, "paste"),
    ("select_all_action", "Select &all", QKeySequence.StandardKey.SelectAll, "selectAll"),
)
_CHANGES_TEXT = {"undo", "redo", "cut", "paste"}


def focused_text_field() -> TextField | None:
    """The text field with the keyboard focus (an editable combo box's line edit included)."""
    widget = QApplication.focusWidget()
    if isinstance(widget, QComboBox) and widget.isEditable():
        widget = widget.lineEdit()
    if isinstance(widget, QLineEdit | QTextEdit | QPlainTextEdit):
        return widget
    return None


def _read_only(field: TextField) -> bool:
    return field.isReadOnly()


def _can(field: TextField, method: str) -> bool:
    """Whether `method` would do something in `field` now (the menu greys the rest out)."""
    if method in _CHANGES_TEXT and _read_only(field):
        return False
    if isinstance(field, QLineEdit):
        if method == "undo":
            return field.isUndoAvailable()
        if method == "redo":
            return field.isRedoAvailable()
        if method in ("cut", "copy"):
            return field.hasSelectedText()
        return True
    document = field.document()
    if method == "undo":
        return document.isUndoAvailable()
    if method == "redo":
        return document.isRedoAvailable()
    if method in ("cut", "copy"):
        return field.textCursor().hasSelection()
    return True


def plain_text(action: QAction) -> str:
    """The action's text as a person reads it: no mnemonic marker, no trailing dots."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")


class MenuBar(QObject):
    """The five menus (``file``, ``edit``, ``view``, ``chat``, ``help``) and the standard
    actions, as attributes: ``quit_action``, the text commands (``undo_action`` …),
    ``settings_action``, ``page_actions``, ``timing_action``, ``zoom_in_action``,
    ``zoom_out_action``, ``zoom_reset_action``, ``shortcuts_action``, ``about_action``.

    `undo_fallback`: what Undo does with no text to undo (the window's "undo delete"), and
    whether there is something for it to undo."""

    def __init__(
        self,
        window: QWidget,
        bar: QMenuBar,
        undo_fallback: tuple[Callable[[], bool], Callable[[], None]] | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._undo_fallback = undo_fallback
        self.file = bar.addMenu("&File")
        self.edit = bar.addMenu("&Edit")
        self.view = bar.addMenu("&View")
        self.chat = bar.addMenu("&Chat")
        self.help = bar.addMenu("&Help")

        self.quit_action = QAction("&Quit", window)
        # Ctrl+Q everywhere: Qt's Quit key is empty on Windows.
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        window.addAction(self.quit_action)

        self._text_actions: dict[str, QAction] = {}
        for command in _TEXT_COMMANDS:
            if command is None:
                self.edit.addSeparator()
                continue
            name, text, keys, method = command
            action = self.edit.addAction(text)
            action.setShortcut(keys)
            # Shown in the menu, active only while the menu itself is open: the text field
            # with the focus handles these keys.
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _=False, m=method: self._run_text_command(m))
            setattr(self, name, action)
            self._text_actions[method] = action
        self.edit.aboutToShow.connect(self._update_text_actions)
        self.edit.addSeparator()
        self._edit_end = self.edit.addSeparator()  # the window's Find goes before this
        self.settings_action = self.add(self.edit, "&Settings…", QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.page_actions: list[QAction] = []
        self._pages_end = self.view.addSeparator()
        self.timing_action = self.add(self.view, "Show timing of last &reply", "Ctrl+T")
        self.view.addSeparator()
        self.zoom_in_action = self.add(self.view, "Zoom &in", QKeySequence.StandardKey.ZoomIn)
        # Ctrl+= too: on most keyboards "+" needs Shift.
        self.zoom_in_action.setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
        self.zoom_out_action = self.add(self.view, "Zoom &out", QKeySequence("Ctrl+-"))
        self.zoom_reset_action = self.add(self.view, "&Normal size", QKeySequence("Ctrl+0"))

        self.shortcuts_action = self.add(
            self.help, "&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents
        )
        self.about_action = self.add(self.help, "&About Hearth")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def add(self, menu: QMenu, text: str, keys: Keys | None = None) -> QAction:
        """A window-wide action at the end of `menu` (its shortcut works from any widget).
        An Alt key (``&``) another entry of `menu` has already is moved to a free letter."""
        action = menu.addAction(_free_mnemonic(text, menu))
        if keys is not None:
            action.setShortcut(keys)
        self._window.addAction(action)  # so its shortcut works with the menu bar hidden
        return action

    def add_find(self, action: QAction) -> None:
        """The window's search goes in Edit, after the text commands."""
        self.edit.insertAction(self._edit_end, action)

    def end_file_menu(self) -> None:
        """Quit last, after whatever the window put in File."""
        self.file.addSeparator()
        self.file.addAction(self.quit_action)

    def add_page(self, title: str, show: Callable[[], None]) -> QAction:
        """View > `title`, Ctrl+1 for the first page, Ctrl+2 for the next, … up to Ctrl+9."""
        number = len(self.page_actions) + 1
        action = QAction(_with_mnemonic(title, self.view), self._window)
        if number <= 9:
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
        action.triggered.connect(show)
        self.view.insertAction(self._pages_end, action)
        self._window.addAction(action)
        self.page_actions.append(action)
        return action

    def all_actions(self) -> list[tuple[str, QAction, str]]:
        """Every command in the menus, as (menu title, action, the menu's text with its
        mnemonic marker), in menu order."""
        found: list[tuple[str, QAction, str]] = []
        for menu in (self.file, self.edit, self.view, self.chat, self.help):
            _collect(menu, plain_text(menu.menuAction()), menu.title(), found)
        return found

    # ---- the text commands -------------------------------------------------------------

    def _run_text_command(self, method: str) -> None:
        field = focused_text_field()
        if method == "undo" and self._undo_fallback is not None:
            pending, undo = self._undo_fallback
            if pending() and (field is None or not _can(field, "undo")):
                undo()
                return
        if field is not None:
            getattr(field, method)()

    def _update_text_actions(self) -> None:
        field = focused_text_field()
        for method, action in self._text_actions.items():
            action.setEnabled(field is not None and _can(field, method))
        if self._undo_fallback is not None and self._undo_fallback[0]():
            self._text_actions["undo"].setEnabled(True)


def _collect(menu: QMenu, title: str, raw: str, found: list[tuple[str, QAction, str]]) -> None:
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():
            continue
        submenu = action.menu()
        if isinstance(submenu, QMenu):
            _collect(submenu, f"{title} › {plain_text(action)}", raw, found)
        else:
            found.append((title, action, raw))


def _mnemonic(text: str) -> str | None:
    stripped = text.replace("&&", "")
    index = stripped.find("&")
    return stripped[index + 1].lower() if 0 <= index < len(stripped) - 1 else None


def _taken(menu: QMenu) -> set[str]:
    return {key for a in menu.actions() if (key := _mnemonic(a.text())) is not None}


def _free_mnemonic(text: str, menu: QMenu) -> str:
    """`text` as given, unless its Alt key is taken in `menu` (or it has none)."""
    key = _mnemonic(text)
    if key is not None and key not in _taken(menu):
        return text
    return _with_mnemonic(text.replace("&&", "\0").replace("&", "").replace("\0", "&&"), menu)


def _with_mnemonic(title: str, menu: QMenu) -> str:
    """`title` with an Alt key no other entry of `menu` uses (the first free letter)."""
    taken = _taken(menu)
    for index, char in enumerate(title):
        if char.isalnum() and char.lower() not in taken:
            return f"{title[:index]}&{title[index:]}"
    return title
