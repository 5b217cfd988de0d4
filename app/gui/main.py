"""Composition root of the desktop app: builds the parts, injects them, runs the event loop."""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from app.chat.api_chats import keep_api_chat as keep_api_conversation
from app.chat.recovery import ChatRecovery
from app.config.paths import HearthPaths
from app.gui.chat.controller import ChatController
from app.gui.chat.files import ChatFilesController
from app.gui.chat.history_recovery import HistoryRecovery
from app.gui.chat.presets import PresetsController
from app.gui.chat.search import SearchController
from app.gui.chat.timing_view import TimingView
from app.gui.documents.controller import install_documents
from app.gui.menus import install_menus
from app.gui.models.controller import install_models
from app.gui.performance.controller import install_performance
from app.gui.server.presenter import install_api_server
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.gui.translation.controller import install_translation
from inference.protocol import ChatMessage, Done
from storage.bench import BenchResultRepository
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import DatabaseError
from storage.performance import PerformanceRepository
from storage.presets import PresetRepository
from storage.search import SearchRepository
from storage.traces import TraceRepository
from ui.main_window import MainWindow


def build_app(
    paths: HearthPaths, *, pages: bool = True
) -> tuple[MainWindow, ChatController, Database]:
    """Everything but the event loop (tests use this too). Raises DatabaseError.

    `pages`: also the Documents, Translate, Models and Performance pages (chat-only tests
    skip them).
    The chat controller's shutdown stops them first (through the session's shutdown hooks).
    """
    paths.ensure_for_history()
    database, recovery = Database.open(paths.database)
    ChatRecovery(database).mark_interrupted_replies()
    # A damaged history is recovered in the background, once the window is up.
    window = MainWindow()
    conversations = ConversationRepository(database)
    messages = MessageRepository(database)
    # The one settings store and the app's one engine session: every presenter gets them
    # (or the few things it needs) from here, never through another presenter.
    store = SettingsStore(paths.settings_file, parent=window)
    store.saveFailed.connect(window.show_error)
    session = EngineSession(store, paths)
    controller = ChatController(
        window, session, store, conversations, messages, paths, TraceRepository(database)
    )
    SearchController(
        window.search_dialog,
        SearchRepository(database),
        controller,
        window.pages,
        window.chat_view,
    )
    presets = PresetsController(
        window.presets_dialog,
        PresetRepository(database),
        store,
        controller,
        conversations,
        controller.sampling_changed,
    )
    window.presets_button.clicked.connect(presets.open)
    timing = TimingView(
        window.chat_view.timingRequested,
        TraceRepository(database),
        PerformanceRepository(database),
        messages,
        lambda: session.info,
        window,
    )
    session.on_shutdown(timing.shutdown)
    menus = install_menus(window, store, session, paths, controller.set_context_policy)
    ChatFilesController(
        window, controller, conversations, messages, database, session.on_shutdown, parent=window
    )
    if pages:
        documents = install_documents(
            window, session, database, seed_conversation=controller.seed_conversation
        )
        session.on_shutdown(documents.shutdown)

        def open_documents(paths: list[str]) -> None:
            documents.open_paths(paths)
            window.show_page(documents.page)

        window.filesDropped.connect(open_documents)
        translation = install_translation(window, session, store, paths, database)
        session.on_shutdown(translation.shutdown)
        models = install_models(window, session, store, paths, BenchResultRepository(database))
        session.on_shutdown(models.shutdown)
        # The servers connected on the Models page offer their models to the Translate page
        # too (issue 14).
        models.connections.remoteModelsListed.connect(translation.show_remote_models)
        performance = install_performance(
            window,
            database,
            controller.replyFinished,
            model_info=lambda: session.info,
            open_timing=timing.open,
        )
        session.on_shutdown(performance.shutdown)
        if models.benchmark is not None and performance.benchmarks is not None:
            # The Models page's benchmark and the Performance page know nothing of each other.
            models.benchmark.stored.connect(performance.benchmarks.refresh)

            def see_benchmarks() -> None:
                window.show_page(performance.page)
                performance.show_benchmarks()

            models.benchmark.resultsRequested.connect(see_benchmarks)

    # Hearth's API server (issue 14), over the chat's engine; started now when it was left on
    # (it answers 503 until the model is loaded).
    def keep_api_chat(messages: tuple[ChatMessage, ...], done: Done) -> None:
        keep_api_conversation(database, messages, done)
        controller.refresh_list()

    install_api_server(
        window, session, store, menus.settings.dialog.add_server_widget, keep_chat=keep_api_chat
    ).start_at_launch()
    if recovery is not None:
        HistoryRecovery(
            database,
            recovery,
            controller,
            conversations,
            window.show_error,
            session.on_shutdown,
            parent=window,
        ).start()
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
    # Matches the window to its menu entry (packaging/hearth.desktop, installed under this
    # id by `make install-desktop`): Wayland compositors need it for the icon and grouping.
    app.setDesktopFileName("io.github.hearth.Hearth")
    app.setOrganizationName("Hearth")
    try:
        window, controller, database = build_app(paths)
    except DatabaseError as exc:
        QMessageBox.critical(None, "Hearth cannot open its chat history", str(exc))
        return 1
    _install_excepthook(window)
    return run_window(app, window, controller, database, after_show=freeze_startup_objects)


def run_window(
    app: QApplication,
    window: MainWindow,
    controller: ChatController,
    database: Database,
    *,
    after_show: Callable[[], None] = lambda: None,
) -> int:
    """Show the window and run until it is closed, by its close button or File > Quit alike
    (the last window closed ends the event loop); then save what is streaming, stop the
    engine and close the database."""
    window.show()
    after_show()
    controller.start()
    try:
        return app.exec()
    finally:
        controller.shutdown()
        database.close()
