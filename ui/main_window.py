"""The main window: sidebar, banner, transcript, input, status bar. GUI thread only.

It only lays out the widgets and forwards their signals; the app controller connects to the
window's signals and calls its methods. Children are public attributes for the controller
and the tests.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.chat.context_budget import ContextBudgetLabel
from ui.chat.context_policy import ContextPolicyBox, OverflowQuestion
from ui.chat.conversation_list import ConversationList
from ui.chat.live_stats import LiveStatsLabel
from ui.chat.message_input import MessageInput
from ui.chat.model_picker import ModelPicker
from ui.chat.presets_dialog import PresetsDialog
from ui.chat.search_dialog import SearchDialog
from ui.chat.speed_plot import SpeedPlot
from ui.chat.trash_dialog import TrashDialog
from ui.chat.view import ChatView
from ui.menu_bar import MenuBar
from ui.widgets.eliding_label import ElidingLabel, PartsLabel
from ui.widgets.message_bar import MessageBar

UNDO_VISIBLE_MS = 10_000
# The model line's widest claim on the status bar, as a share of the window's width: the
# stats beside it keep the rest however long a model's name is.
MODEL_LINE_SHARE = 0.45
ERROR_STATUS_MS = 10_000


class MainWindow(QMainWindow):
    """Signals (GUI thread), commands for the app controller:

    ``sendRequested(text)``, ``stopRequested()``, ``newChatRequested()``,
    ``conversationSelected(id)``, ``renameRequested(id, title)``, ``deleteRequested(id)``,
    ``undoDeleteRequested()``, ``regenerateRequested(message_id)``.
    """

    sendRequested = Signal(str)
    stopRequested = Signal()
    newChatRequested = Signal()
    conversationSelected = Signal(int)
    renameRequested = Signal(int, str)
    deleteRequested = Signal(int)
    undoDeleteRequested = Signal()
    regenerateRequested = Signal(int)
    filesDropped = Signal(list)  # local file paths dropped on the window (documents)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hearth")
        self.setAcceptDrops(True)
        self.resize(1100, 750)
        self._generating = False

        self.conversations = ConversationList(self)
        self.search_dialog = SearchDialog(self)
        self.trash_dialog = TrashDialog(self)
        self.presets_dialog = PresetsDialog(self)
        self.banner = MessageBar(parent=self)
        self.chat_view = ChatView(self)
        self.error_bar = MessageBar(parent=self)
        self.undo_bar = MessageBar("Undo", parent=self)
        self.edit_bar = MessageBar("Cancel edit", parent=self)
        self.message_input = MessageInput(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)

        input_row = QHBoxLayout()
        input_row.addWidget(self.message_input, 1)
        input_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.model_picker = ModelPicker(self)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model:", self))
        model_row.addWidget(self.model_picker)
        model_row.addStretch(1)
        right_layout.addLayout(model_row)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.chat_view, 1)
        right_layout.addWidget(self.undo_bar)
        right_layout.addWidget(self.error_bar)
        self.overflow_question = OverflowQuestion(self)
        right_layout.addWidget(self.overflow_question)
        right_layout.addWidget(self.edit_bar)
        right_layout.addLayout(input_row)
        self.context_budget = ContextBudgetLabel(self)
        self.context_policy = ContextPolicyBox(self)
        budget_row = QHBoxLayout()
        budget_row.addWidget(self.context_budget, 1)
        budget_row.addWidget(QLabel("When the chat outgrows the context:", self))
        budget_row.addWidget(self.context_policy)
        self.presets_button = QPushButton("Presets…", self)
        self.presets_button.setToolTip("Named system prompts with sampling settings")
        budget_row.addWidget(self.presets_button)
        right_layout.addLayout(budget_row)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.conversations)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 840])
        splitter.setChildrenCollapsible(False)
        # Chat is the first page; documents, translation and models are added beside it.
        self.pages = QTabWidget(self)
        self.pages.setDocumentMode(True)
        self.pages.addTab(splitter, "Chat")
        self.setCentralWidget(self.pages)

        # The model's name is pinned: its chat format and backend go first when room is short.
        # Its size hint is the parts that fit in MODEL_LINE_SHARE of the window: the stats
        # beside it take the rest of the bar, a long model line cannot crowd them out.
        self.model_label = PartsLabel(
            "No model loaded",
            self,
            pinned=lambda index, _part: index == 0,
            widest=lambda: int(self.width() * MODEL_LINE_SHARE),
        )
        # What is loading, beside a bar that only shows the percentage: a long text inside
        # a bar ran past its end.
        self.load_label = ElidingLabel("", self)
        self.load_label.hide()
        self.load_progress = QProgressBar(self)
        self.load_progress.setTextVisible(True)
        self.load_progress.setFormat("%p%")
        self.load_progress.setFixedWidth(self.load_progress.sizeHint().width())
        self.load_progress.hide()
        self.live_stats = LiveStatsLabel(self)
        self.speed_plot = SpeedPlot(self)
        status = self.statusBar()
        # Permanent widgets: a transient status message must not hide the loading bar. The
        # model line gets what its text needs (up to its size hint) and the stats, with the
        # stretch, all the rest: with equal stretch each had half, and the stats left out
        # figures beside room the model line could not use. QBoxLayout serves the widgets
        # without stretch first, up to their size hints. Each leaves out its least important
        # parts when short of room.
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.load_label)
        status.addPermanentWidget(self.load_progress)
        status.addPermanentWidget(self.live_stats, 1)
        # In the corner, after the figures: it keeps its room while hidden (no shift when a
        # reply starts streaming).
        status.addPermanentWidget(self.speed_plot)
        # "API: 127.0.0.1:8080" while Hearth's API server runs (issue 14); hidden otherwise.
        self.api_status = QLabel("", self)
        self.api_status.setToolTip("Hearth's API server is running (Chat ▸ API server…)")
        self.api_status.hide()
        status.addPermanentWidget(self.api_status)

        self._build_menu()
        self._connect_children()
        self._install_shortcuts()
        self.message_input.setFocus()

    # ---- API for the app controller ----------------------------------------------------

    def add_page(self, title: str, page: QWidget) -> int:
        """A page beside Chat, with its View menu entry (Ctrl+1 is Chat, Ctrl+2 the first
        added page, …)."""
        index = self.pages.addTab(page, title)
        self.menus.add_page(title, lambda: self.pages.setCurrentWidget(page))
        return index

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.model_label.updateGeometry()  # its size hint follows the window's width

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)

    def set_generating(self, generating: bool) -> None:
        """ "Stop" while a reply is being written, "Send" otherwise."""
        self._generating = generating
        self.send_button.setText("Stop" if generating else "Send")
        self.send_button.setToolTip("Stop the reply (Esc)" if generating else "Send (Enter)")

    def set_model_info(self, name: str, chat_format: str, backend: str) -> None:
        """E.g. ``Gemma 3 270m · Q4_K_M · format: gemma (built-in) · CPU``."""
        self.model_label.set_parts([name, f"format: {chat_format}", backend])
        self.model_label.setToolTip(self.model_label.text())

    def show_loading(self, fraction: float | None, text: str) -> None:
        """Model loading progress; ``None`` shows a busy (indeterminate) bar."""
        if fraction is None:
            self.load_progress.setRange(0, 0)
        else:
            self.load_progress.setRange(0, 1000)
            self.load_progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.load_label.setText(text)
        self.load_label.setToolTip(text)
        self.load_progress.setToolTip(text)
        self.load_label.show()
        self.load_progress.show()

    def hide_loading(self) -> None:
        self.load_label.hide()
        self.load_progress.hide()

    def set_api_status(self, text: str) -> None:
        """The API server's status-bar indicator; "" hides it."""
        self.api_status.setText(text)
        self.api_status.setVisible(bool(text))

    def show_banner(self, html: str) -> None:
        """The info banner above the transcript (e.g. the first-run model notice)."""
        self.banner.show_message(html, rich=True)

    def hide_banner(self) -> None:
        self.banner.dismiss()

    def offer_banner_action(self, text: str) -> None:
        """A button on the info banner (the first-run notice's "Get a better model…"); its
        click hides the banner and emits ``banner.actionTriggered``."""
        self.banner.action_button.setText(text)
        self.banner.action_button.setVisible(bool(text))

    def show_error(self, text: str) -> None:
        """A plain-words error above the input (dismissible) and in the status bar; never a
        modal dialog, so nothing blocks the event loop."""
        self.error_bar.show_message(text)
        self.statusBar().showMessage(text, ERROR_STATUS_MS)

    def hide_error(self) -> None:
        self.error_bar.dismiss()

    def offer_undo(self, text: str) -> None:
        """Show "<text> [Undo]" for a while; Undo or Ctrl+Z emits ``undoDeleteRequested``."""
        self.undo_bar.show_message(text, timeout_ms=UNDO_VISIBLE_MS)
        self._undo_shortcut.setEnabled(True)

    # ---- wiring ------------------------------------------------------------------------

    def _connect_children(self) -> None:
        conv = self.conversations
        conv.newRequested.connect(self.newChatRequested)
        conv.conversationSelected.connect(self.conversationSelected)
        conv.renameRequested.connect(self.renameRequested)
        conv.deleteRequested.connect(self.deleteRequested)
        self.chat_view.regenerateRequested.connect(self.regenerateRequested)
        self.message_input.sendRequested.connect(self.sendRequested)
        self.message_input.stopRequested.connect(self.stopRequested)
        self.send_button.clicked.connect(self._on_send_button)
        self.undo_bar.actionTriggered.connect(self._on_undo)
        self.undo_bar.dismissed.connect(lambda: self._undo_shortcut.setEnabled(False))

    # ---- drops: documents dropped anywhere on the window go to the Documents page -----------

    @staticmethod
    def _dropped_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            super().dropEvent(event)

    def _build_menu(self) -> None:
        """Every command in the menu bar, with its shortcut shown and an Alt key (issue 15).
        The menus are `self.menus.file` … `.help`; a part built later adds its commands
        to them (the API server's to `self.menus.chat`)."""
        menus = self.menus = MenuBar(
            self, self.menuBar(), undo_fallback=(self.undo_bar.isVisible, self._on_undo)
        )
        self.quit_action = menus.quit_action
        # Quit is the window's close button: the app saves and stops the engine once its
        # last window is closed (app/gui/main.py), whichever way it was closed.
        self.quit_action.triggered.connect(self.close)
        self.chat_page_action = menus.add_page("Chat", lambda: self.pages.setCurrentIndex(0))

        file = menus.file
        self.new_chat_action = menus.add(file, "&New chat", QKeySequence.StandardKey.New)
        self.new_chat_action.triggered.connect(self.newChatRequested)
        file.addSeparator()
        self.import_action = menus.add(file, "&Import chats…")
        self.export_chat_action = menus.add(file, "&Export this chat…")
        self.export_all_action = menus.add(file, "Export &all chats…")
        menus.end_file_menu()

        self.search_action = QAction("&Find in all chats…", self)
        self.search_action.setShortcut(QKeySequence.StandardKey.Find)
        self.search_action.triggered.connect(self.search_dialog.open_search)
        self.addAction(self.search_action)
        menus.add_find(self.search_action)

        chat = menus.chat
        # Window-wide: the list's own F2 worked only while the sidebar had the focus.
        self.rename_action = menus.add(chat, "&Rename chat", QKeySequence(Qt.Key.Key_F2))
        self.rename_action.triggered.connect(self._rename_current_chat)
        self.copy_markdown_action = menus.add(
            chat, "&Copy chat as Markdown", QKeySequence("Ctrl+Shift+C")
        )
        # Esc from anywhere in the window; the input claims Esc itself (one stop per press).
        self.stop_action = menus.add(chat, "&Stop the reply", QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.triggered.connect(self.stopRequested)
        chat.addSeparator()
        self.auto_title_action = menus.add(chat, "&Name chats automatically")
        self.auto_title_action.setCheckable(True)
        self.auto_title_action.setToolTip(
            "After a chat's first exchange, the loaded model suggests a short title in the "
            "background. A title you typed is never replaced."
        )
        self.presets_action = menus.add(chat, "&Presets…")
        self.presets_action.triggered.connect(self.presets_button.click)
        self.trash_action = menus.add(chat, "&Trash…")
        self.trash_action.triggered.connect(self.conversations.trash_button.click)
        chat.addSeparator()
        self.api_server_action = menus.add(chat, "API &server…")
        menus.timing_action.triggered.connect(self._show_last_timing)

    def _install_shortcuts(self) -> None:
        # Only while the undo bar shows; a text field with its own undo history keeps Ctrl+Z.
        self._undo_shortcut = QShortcut(QKeySequence.StandardKey.Undo, self)
        self._undo_shortcut.setEnabled(False)
        self._undo_shortcut.activated.connect(self._on_undo)

    def _show_last_timing(self) -> None:
        """View > Show timing of last reply: the newest reply on screen the engine wrote."""
        message_id = self.chat_view.last_timed_reply()
        if message_id is None:
            self.statusBar().showMessage("No reply in this chat has a timing yet.", 5000)
            return
        self.chat_view.timingRequested.emit(message_id)

    def _on_send_button(self) -> None:
        if self._generating:
            self.stopRequested.emit()
        else:
            self.message_input.request_send()
            self.message_input.setFocus()

    def _rename_current_chat(self) -> None:
        """Rename the chat on screen in place, from any page and any focused widget."""
        self.pages.setCurrentIndex(0)
        self.conversations.rename_current()

    def _on_undo(self) -> None:
        self._undo_shortcut.setEnabled(False)
        self.undo_bar.hide()
        self.undoDeleteRequested.emit()
