"""Composition root of the desktop app: builds the parts, injects them, runs the event loop."""

from __future__ import annotations

import gc
import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from app.chat_controller import ChatController
from app.chat_files_controller import ChatFilesController
from app.chat_recovery import ChatRecovery
from app.documents_controller import install_documents
from app.history_recovery import HistoryRecovery
from app.models_controller import install_models
from app.paths import HearthPaths
from app.presets_controller import PresetsController
from app.search_controller import SearchController
from app.settings import load_settings
from app.translation_controller import install_translation
from inference.client import EngineClient
from storage.chats import ConversationRepository, MessageRepository
from storage.data_folder import folder_problem
from storage.database import Database
from storage.errors import DatabaseError
from storage.presets import PresetRepository
from storage.search import SearchRepository
from ui.main_window import MainWindow


def build_app(
    paths: HearthPaths, *, pages: bool = True
) -> tuple[MainWindow, ChatController, Database]:
    """Everything but the event loop (tests use this too). Raises DatabaseError.

    `pages`: also the Documents, Translate and Models pages (chat-only tests skip them).
    The chat controller's shutdown stops them first.
    """
    try:
        paths.ensure()
    except OSError as exc:
        raise DatabaseError(
            folder_problem(paths.data_dir)
            or f"Hearth's data folder {paths.data_dir} could not be created ({exc})."
        ) from exc
    database, recovery = Database.open(paths.database)
    ChatRecovery(database).mark_interrupted_replies()
    # A damaged history is recovered in the background, once the window is up.
    window = MainWindow()
    client = EngineClient()
    controller = ChatController(
        window,
        client,
        ConversationRepository(database),
        MessageRepository(database),
        paths,
        load_settings(paths.settings_file),
    )
    SearchController(window.search_dialog, controller, SearchRepository(database))
    presets = PresetsController(window.presets_dialog, controller, PresetRepository(database))
    window.presets_button.clicked.connect(presets.open)
    ChatFilesController(controller, database)
    if pages:
        documents = install_documents(window, controller, database)
        controller.on_shutdown(documents.shutdown)

        def open_documents(paths: list[str]) -> None:
            documents.open_paths(paths)
            window.show_page(documents.page)

        window.filesDropped.connect(open_documents)
        translation = install_translation(window, controller, database)
        controller.on_shutdown(translation.shutdown)
        models = install_models(window, controller)
        controller.on_shutdown(models.shutdown)
    if recovery is not None:
        HistoryRecovery(controller, database, recovery).start()
    return window, controller, database


def freeze_startup_objects() -> None:
    """Hide what start-up built (Qt wrappers, SQLAlchemy metadata, parsers, languages) from
    the cyclic garbage collector: its full passes then scan only what came later. Those
    passes had been adding ~35 ms to every other click on a 10,000-message chat
    (bench/history_search.py)."""
    gc.collect()
    gc.freeze()


def _install_excepthook(window: MainWindow) -> None:
    """Anything unexpected is reported in the window instead of killing it."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, value, tb)
        window.show_error(f"Something went wrong: {value}. Your chats are saved.")

    sys.excepthook = hook


def run_gui(paths: HearthPaths) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    try:
        window, controller, database = build_app(paths)
    except DatabaseError as exc:
        QMessageBox.critical(None, "Hearth cannot open its chat history", str(exc))
        return 1
    _install_excepthook(window)
    window.show()
    freeze_startup_objects()
    controller.start()
    try:
        return app.exec()
    finally:
        controller.shutdown()
        database.close()
