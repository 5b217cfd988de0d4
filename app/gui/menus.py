"""What the window-wide menu commands do (issue 15): Settings, About, Keyboard shortcuts and
the zoom, plus the settings every part of the window shows (theme, text size, the chat
page's overflow policy and automatic titles) following the settings store wherever they were
changed. The chat commands are wired by the chat page's presenters; Quit and the pages by
the window itself. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QApplication

from app.config.paths import HearthPaths
from app.config.settings import FONT_SIZES, Settings
from app.gui.about import AboutPresenter, ShortcutsPresenter
from app.gui.appearance import Appearance
from app.gui.session import EngineSession
from app.gui.settings_dialog import SettingsPresenter
from app.gui.settings_store import SettingsStore
from ui.main_window import MainWindow


@dataclass(frozen=True)
class WindowMenus:
    settings: SettingsPresenter
    about: AboutPresenter
    shortcuts: ShortcutsPresenter
    appearance: Appearance


def install_menus(
    window: MainWindow,
    store: SettingsStore,
    session: EngineSession,
    paths: HearthPaths,
    set_context_policy: Callable[[str], None],
) -> WindowMenus:
    """`set_context_policy`: the chat page's handler (ChatController.set_context_policy)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    appearance = Appearance(app, parent=window)
    appearance.apply(store.settings)
    picker = window.model_picker
    settings = SettingsPresenter(
        window,
        store,
        paths,
        models=picker.models,
        current_model=lambda: picker.current_path() or session.model_path or "",
        switch_model=session.switch,
        set_context_policy=set_context_policy,
    )
    about = AboutPresenter(window, paths, lambda: session.info)
    shortcuts = ShortcutsPresenter(window, window.menus)
    menus = window.menus
    menus.settings_action.triggered.connect(settings.open)
    menus.about_action.triggered.connect(about.open)
    menus.shortcuts_action.triggered.connect(shortcuts.open)

    def zoom(step: int) -> None:
        current = appearance.point_size(store.settings)
        size = min(max(current + step, FONT_SIZES.start), FONT_SIZES.stop - 1)
        store.update(font_size=size)

    menus.zoom_in_action.triggered.connect(lambda: zoom(+1))
    menus.zoom_out_action.triggered.connect(lambda: zoom(-1))
    menus.zoom_reset_action.triggered.connect(lambda: store.update(font_size=0))

    def follow(new: Settings) -> None:
        appearance.apply(new)
        window.context_policy.set_policy(new.context_policy)
        # Its toggled handler (AutoTitler) stores the same value: nothing more happens.
        window.auto_title_action.setChecked(new.auto_titles)

    store.changed.connect(follow)
    return WindowMenus(settings, about, shortcuts, appearance)
