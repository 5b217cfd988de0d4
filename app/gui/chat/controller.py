"""Wires the main window, the engine client and the chat history together.

GUI thread only. The order of a turn: the user message is committed, then an assistant row
(status streaming) is created, then the engine is asked; streamed text is coalesced for the
view (~30 Hz), flushed to the database about once a second, and finished with its stats.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import fields

from PySide6.QtCore import QObject, QTimer, Signal

from app.chat.unsaved_replies import UnsavedReplies
from app.config.paths import HearthPaths
from app.config.settings import Settings
from app.gui.chat.context_state import ContextState
from app.gui.chat.reply_turn import ReplyTurn
from app.gui.chat.sampling import ChatSamplingEditor
from app.gui.chat.titles import AutoTitler
from app.gui.chat.turn import Turn
from app.gui.settings_store import SettingsStore
from inference.client import EngineClient
from inference.protocol import EngineSettings, ModelInfo, Sampling
from storage.chats import ConversationRepository, MessageRepository
from storage.errors import DatabaseError
from storage.records import MessageStatus
from ui.main_window import MainWindow
from ui.widgets.delta_coalescer import DeltaCoalescer

PARTIAL_FLUSH_MS = 1000
# How often a reply the database refused (disk full) is offered to it again.
SAVE_RETRY_MS = 3000
LIVE_STATS_MS = 250


class ChatController(ReplyTurn, QObject):
    modelReady = Signal(object)  # ModelInfo
    replyRequested = Signal(int)  # conversation id, just before its reply is requested
    replyFinished = Signal(int)  # message id

    def __init__(
        self,
        window: MainWindow,
        client: EngineClient,
        conversations: ConversationRepository,
        messages: MessageRepository,
        paths: HearthPaths,
        settings: SettingsStore,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.client = client
        self.conversations = conversations
        self.messages = messages
        self.paths = paths
        self._choices: tuple[EngineSettings, Sampling, str | None] | None = None
        self.settings_store = settings
        settings.changed.connect(self._forget_choices)
        self.model_info: ModelInfo | None = None
        self._conversation: int | None = None
        self._turn: Turn | None = None
        self._load_request: int | None = None
        self._model_path: str | None = None
        self._deleted: list[int] = []
        self._preparer_thread: threading.Thread | None = None

        self._unsaved = UnsavedReplies(messages)
        self._save_timer = QTimer(self, interval=SAVE_RETRY_MS, timeout=self._save_unsaved)
        self._storage_error: str | None = None  # the storage error shown now, if any
        self._coalescer = DeltaCoalescer(parent=self)
        self._coalescer.flushed.connect(self.window.chat_view.append_delta)
        self._flush_timer = QTimer(self, interval=PARTIAL_FLUSH_MS, timeout=self._flush_partial)
        self._stats_timer = QTimer(self, interval=LIVE_STATS_MS, timeout=self._show_live_stats)
        # The one owner of what the chat page says about the context (gui/chat/context_state.py).
        self.context = ContextState(
            client,
            window.context_budget,
            window.overflow_question,
            window.message_input,
            self._count_inputs,
            parent=self,
        )

        window.sendRequested.connect(self.send)
        window.stopRequested.connect(self.stop)
        window.newChatRequested.connect(self.new_chat)
        window.conversationSelected.connect(self.open_conversation)
        window.renameRequested.connect(self.rename)
        window.deleteRequested.connect(self.delete)
        window.undoDeleteRequested.connect(self.undo_delete)
        window.regenerateRequested.connect(self.regenerate)
        window.conversations.pinRequested.connect(self.set_pinned)
        window.conversations.systemPromptRequested.connect(self.edit_system_prompt)
        window.conversations.trashRequested.connect(self.show_trash)
        window.trash_dialog.restoreRequested.connect(self.restore_from_trash)
        window.trash_dialog.emptyRequested.connect(self.empty_trash)
        window.chat_view.editRequested.connect(self.begin_edit)
        window.chat_view.versionRequested.connect(self.switch_version)
        window.edit_bar.actionTriggered.connect(self.cancel_edit)
        window.edit_bar.dismissed.connect(self.cancel_edit)
        self._editing: int | None = None  # the user message being edited
        self._shutdown_hooks: list[Callable[[], None]] = []

        window.banner.dismissed.connect(self.dismiss_default_notice)
        window.context_policy.set_policy(self.settings.context_policy)
        window.context_policy.policyChosen.connect(self.set_context_policy)
        window.model_picker.modelChosen.connect(self.switch_model)
        window.overflow_question.answered.connect(self._answer_overflow)

        client.loadProgressed.connect(self._on_load_progress)
        client.modelLoaded.connect(self._on_loaded)
        client.generationStarted.connect(self._on_started)
        client.contextTrimmed.connect(self._on_context_trimmed)
        client.deltaReceived.connect(self._on_delta)
        client.generationFinished.connect(self._on_finished)
        client.requestFailed.connect(self._on_failed)
        client.engineCrashed.connect(self._on_crashed)
        self.sampling_editor = ChatSamplingEditor(
            window, conversations, self.model_sampling, self.sampling_changed, parent=self
        )
        self.titles = AutoTitler(
            client,
            conversations,
            messages,
            settings,
            window.auto_title_action,
            history_prompt=self.history_prompt,
            model_sampling=self.model_sampling,
            refresh_list=self.refresh_list,
            parent=self,
        )
        self.replyFinished.connect(self.titles.reply_finished)
        self.replyRequested.connect(self.titles.reply_requested)

    # ---- the settings: the store owns them -------------------------------------------

    @property
    def settings(self) -> Settings:
        """The app's settings as the store holds them now."""
        return self.settings_store.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        # Issue 11: a bridge until the model lifecycle calls the store itself. What it
        # assigns goes through the store, so the presenters that read the store see it and
        # no save by one of them writes back a value the chat has since changed.
        self.settings_store.update(**{f.name: getattr(value, f.name) for f in fields(value)})
        self._choices = None  # derived from the settings: resolved again on next use

    def _forget_choices(self, _settings: Settings) -> None:
        self._choices = None  # derived from the settings: resolved again on next use

    # ---- start-up and shutdown -------------------------------------------------------

    def start(self) -> None:
        self._refresh_list()
        recent = self.conversations.list_recent()
        if recent:
            self.open_conversation(recent[0].id)
        else:
            self.new_chat()
        self.load_model()

    def on_shutdown(self, hook: Callable[[], None]) -> None:
        """Run `hook` first when the app shuts down (pages that use the engine stop their
        jobs before it goes)."""
        self._shutdown_hooks.append(hook)

    def shutdown(self) -> None:
        """Save what is streaming, then stop the engine. Timers stop first: a late budget
        count must not start a new engine after this."""
        hooks, self._shutdown_hooks = self._shutdown_hooks, []
        for hook in reversed(hooks):
            hook()
        self.context.stop()
        self._flush_timer.stop()
        self._stats_timer.stop()
        self.model_info = None
        self._save_timer.stop()
        turn = self._turn
        try:
            if turn is not None:
                self._end_turn()
                self._finish_reply(
                    turn, turn.text, MessageStatus.INTERRUPTED, error="Hearth was closed."
                )
            # A last try; what the database still refuses stays as it last had it, and the
            # next start marks it interrupted.
            self._save_unsaved()
        except DatabaseError:
            pass  # the engine must still be stopped
        if self._preparer_thread is not None:
            self._preparer_thread.join()
            self._preparer_thread = None
        self.client.shutdown()
