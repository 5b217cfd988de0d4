"""Help > About Hearth and Help > Keyboard shortcuts (issue 15). GUI thread only.

About gathers its facts when it opens (app/config/diagnostics.py; the engine's report on the
loaded model says which backend runs it), so they are current; "Copy diagnostics" puts the
same facts on the clipboard as text. The shortcuts list is read from the menu bar's actions
each time it opens, so it shows what the keys do now.
"""

from __future__ import annotations

from collections.abc import Callable

import PySide6
from PySide6.QtCore import QObject, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QWidget

from app.config import diagnostics
from app.config.paths import HearthPaths
from inference.protocol import ModelInfo
from ui.dialogs.about_dialog import AboutDialog
from ui.dialogs.shortcuts_dialog import ShortcutsDialog, rows_from
from ui.menu_bar import MenuBar


def qt_versions() -> dict[str, str]:
    return {"Qt": qVersion(), "PySide6": PySide6.__version__}


class AboutPresenter(QObject):
    """`engine_info`: the loaded model as the engine reported it (EngineSession.info)."""

    def __init__(
        self,
        parent: QWidget,
        paths: HearthPaths,
        engine_info: Callable[[], ModelInfo | None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.paths = paths
        self._engine_info = engine_info
        self._dialog: AboutDialog | None = None

    @property
    def dialog(self) -> AboutDialog:
        if self._dialog is None:
            self._dialog = AboutDialog(self._parent)
            self._dialog.copyRequested.connect(self.copy_diagnostics)
            self._dialog.openFolderRequested.connect(
                lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.paths.data_dir)))
            )
        return self._dialog

    def sections(self) -> list[diagnostics.Section]:
        return diagnostics.collect(self.paths, qt_versions(), self._engine_info())

    def diagnostics_text(self) -> str:
        return "Hearth diagnostics\n\n" + diagnostics.as_text(self.sections())

    def open(self) -> None:
        sections = self.sections()
        self.dialog.show_about(
            diagnostics.package_version("hearth"),
            [(s.title, s.rows) for s in sections],
        )
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics_text())
        self.dialog.show_copied("Copied to the clipboard: versions, paths and this machine.")


class ShortcutsPresenter(QObject):
    def __init__(self, parent: QWidget, menus: MenuBar) -> None:
        super().__init__(parent)
        self._parent = parent
        self._menus = menus
        self._dialog: ShortcutsDialog | None = None

    @property
    def dialog(self) -> ShortcutsDialog:
        if self._dialog is None:
            self._dialog = ShortcutsDialog(self._parent)
        return self._dialog

    def open(self) -> None:
        self.dialog.show_rows(rows_from(self._menus.all_actions()))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
