"""Wires the main window, the engine session's client and the chat history together.

The engine session (app/gui/session.py) owns the model's life; this presenter keeps the chat
(conversations, turns, edits) and shows what the session announces (model_status.py beside
this one). GUI thread only.

The order of a turn: the user message is committed, then an assistant row (status
streaming) is created, then the engine is asked; streamed text is coalesced for the view
(~30 Hz), flushed to the database about once a second, and finished with its stats.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from app.chat.first_tokens import FirstTokens
from app.chat.prompt_history import prompt_turns
from app.chat.unsaved_replies import UnsavedReplies
from app.config.paths import HearthPaths
from app.gui.chat.context_state import ContextState
from app.gui.chat.model_status import ModelStatus
from app.gui.chat.reply_turn import ReplyTurn
from app.gui.chat.sampling import ChatSamplingEditor
from app.gui.chat.titles import AutoTitler
from app.gui.chat.turn import Turn
from app.gui.chat.warming import ChatWarming
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.gui.tasks import TaskRunner
from inference.protocol import ChatMessage
from storage.chats import ConversationRepository, MessageRepository
from storage.errors import DatabaseError
from storage.records import MessageStatus
from storage.traces import TraceRepository
from ui.main_window import MainWindow
from ui.widgets.delta_coalescer import DeltaCoalescer

PARTIAL_FLUSH_MS = 1000
# How often a reply the database refused (disk full) is offered to it again.
SAVE_RETRY_MS = 3000
LIVE_STATS_MS = 250
# Closing while a deleted chat's kept states are being removed: a few unlinks.
BACKGROUND_STOP_S = 2.0


class ChatController(ReplyTurn, QObject):
    replyRequested = Signal(int)  # conversation id, just before its reply is requested
    replyFinished = Signal(int)  # message id

    def __init__(
        self,
        window: MainWindow,
        session: EngineSession,
        store: SettingsStore,
        conversations: ConversationRepository,
        messages: MessageRepository,
        paths: HearthPaths,
        traces: TraceRepository | None = None,
    ) -> None:
        """`session`: the app's engine session; the chat sends its requests through its
        client. `store`: the app-wide settings. `traces`: where the stats under a reply read
        its times to first token (None: the stored prefill-to-first-token figure only)."""
        super().__init__(window)
        self.window = window
        self.session = session
        self.client = session.client
        self.store = store
        self.conversations = conversations
        self.messages = messages
        self.paths = paths
        self._conversation: int | None = None
        self._turn: Turn | None = None
        self._deleted: list[int] = []
        self._closed = False
        self._background = TaskRunner(self)

        self._unsaved = UnsavedReplies(messages)
        self._save_timer = QTimer(self, interval=SAVE_RETRY_MS, timeout=self._save_unsaved)
        self._storage_error: str | None = None  # the storage error shown now, if any
        self._coalescer = DeltaCoalescer(parent=self)
        self._coalescer.flushed.connect(self.window.chat_view.append_delta)
        self._coalescer.flushed.connect(self._on_painted)  # after: the text is in the view
        self.first_tokens = FirstTokens(traces)
        window.chat_view.first_token_source = self.first_tokens.times
        self._flush_timer = QTimer(self, interval=PARTIAL_FLUSH_MS, timeout=self._flush_partial)
        self._stats_timer = QTimer(self, interval=LIVE_STATS_MS, timeout=self._show_live_stats)
        # The one owner of what the chat page says about the context (gui/chat/context_state.py).
        self.context = ContextState(
            self.client,
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

        window.context_policy.set_policy(store.settings.context_policy)
        window.context_policy.policyChosen.connect(self.set_context_policy)
        window.overflow_question.answered.connect(self._answer_overflow)

        # A switch stops the reply being written before the engine drops its model.
        session.switching.connect(lambda _path: self.stop())
        self.model_status = ModelStatus(window, session, store, self.context, parent=self)
        session.crashed.connect(self._on_crashed)
        client = self.client
        client.generationStarted.connect(self._on_started)
        client.contextTrimmed.connect(self._on_context_trimmed)
        client.deltaReceived.connect(self._on_delta)
        client.prefillProgressed.connect(self._on_prefill_progress)
        client.generationFinished.connect(self._on_finished)
        client.requestFailed.connect(self._on_failed)
        self.sampling_editor = ChatSamplingEditor(
            window, conversations, self.model_sampling, self.sampling_changed, parent=self
        )
        self.titles = AutoTitler(
            client,
            conversations,
            messages,
            store,
            window.auto_title_action,
            history_prompt=self.history_prompt,
            model_sampling=self.model_sampling,
            refresh_list=self.refresh_list,
            parent=self,
        )
        self.replyFinished.connect(self.titles.reply_finished)
        self.replyRequested.connect(self.titles.reply_requested)
        # An opened chat's kept KV state is restored, and the unsent text read, while the
        # user types (issue 13).
        self.warming = ChatWarming(
            session,
            lambda: self.current_conversation,
            self._next_prompt,
            lambda: self._turn is not None,
            window.message_input.toPlainText,
            parent=self,
        )
        window.message_input.textChanged.connect(self.warming.draft_changed)
        self.replyRequested.connect(lambda _id: self.warming.turn_started())
        self.replyFinished.connect(lambda _id: self.warming.turn_ended())

    def _next_prompt(self, conversation_id: int | None) -> list[ChatMessage]:
        """What the chat's next reply is built from, before the new user turn: as in
        `_generate` (app/gui/chat/reply_turn.py), so a warmed state starts its prompt. A
        chat not stored yet: its system prompt only. While a message of this chat is being
        edited: the messages before it (the edit's reply is built from those)."""
        if conversation_id is None:
            return self._with_system_prompt(None, [])
        path = [self._unsaved.shown(m) for m in self.messages.active_path(conversation_id)]
        edited = next((i for i, m in enumerate(path) if m.id == self._editing), None)
        turns = prompt_turns(path if edited is None else path[:edited])
        return self._with_system_prompt(conversation_id, [t.message for t in turns])

    def sampling_changed(self) -> None:
        """A chat's sampling changed: the budget shown depends on its reply length."""
        self.context.recount()

    def set_context_policy(self, policy: str) -> None:
        self.store.update(context_policy=policy)
        self.context.recount()

    # ---- start-up and shutdown -------------------------------------------------------

    def start(self) -> None:
        self._refresh_list()
        recent = self.conversations.list_recent()
        if recent:
            self.open_conversation(recent[0].id)
        else:
            self.new_chat()
        self.session.load_chosen()

    def shutdown(self) -> None:
        """Save what is streaming, then stop the engine session (which first lets the pages
        stop their jobs: EngineSession.on_shutdown). Timers stop first: a late budget count
        must not start a new engine after this."""
        self.context.stop()
        self.warming.stop()
        self._flush_timer.stop()
        self._stats_timer.stop()
        self._closed = True
        self._save_timer.stop()
        self._background.shutdown(time.monotonic() + BACKGROUND_STOP_S)
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
        self.session.shutdown()
