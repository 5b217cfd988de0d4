"""Wires the main window, the engine client and the chat history together.

GUI thread only. The order of a turn: the user message is committed, then an assistant row
(status streaming) is created, then the engine is asked; streamed text is coalesced for the
view (~30 Hz), flushed to the database about once a second, and finished with its stats.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QInputDialog

from app.chat.lazy_path import LazyPath
from app.chat.prompt_history import prompt_messages, prompt_turns
from app.chat.reply_sampling import chat_sampling
from app.chat.unsaved_replies import UnsavedReplies
from app.config.paths import HearthPaths
from app.config.settings import Settings, save_settings
from app.gui.chat.context_state import ContextState, CountInputs
from app.gui.chat.sampling import ChatSamplingEditor
from app.gui.chat.titles import AutoTitler
from app.models.catalog import name_for
from app.models.default_model import (
    DEFAULT_MODEL_NOTICE,
    DefaultModelError,
    default_model_path,
    ensure_default_model,
    is_default_model,
)
from app.models.names import display_name
from app.models.settings import engine_settings_for, load_model_settings
from inference.client import EngineClient
from inference.protocol import ChatMessage, Done, EngineSettings, ErrorKind, ModelInfo, Sampling
from storage.chats import ConversationRepository, MessageRepository
from storage.errors import DatabaseError, RecordNotFoundError
from storage.records import MessageRecord, MessageStatus, Role, StatsRecord
from ui.main_window import MainWindow
from ui.widgets.delta_coalescer import DeltaCoalescer

PARTIAL_FLUSH_MS = 1000
# How often a reply the database refused (disk full) is offered to it again.
SAVE_RETRY_MS = 3000
SAVED_AGAIN_MS = 4000  # how long "saved again" stays where the storage error was

_Slot = TypeVar("_Slot", bound=Callable[..., None])


def _reports_storage_errors(slot: _Slot) -> _Slot:
    """A storage failure (disk full, database locked by another program) is told to the user
    in the window; what they typed stays in the input, and a reply keeps streaming in memory
    so the next flush can still save it. Every such action first saves the replies the
    database refused before, so they are stored ahead of whatever the action writes."""

    @functools.wraps(slot)
    def wrapper(self: ChatController, *args: object) -> object:
        self._save_unsaved()
        try:
            return slot(self, *args)
        except DatabaseError as exc:
            self._report_storage_error(exc)
            return None

    return wrapper  # type: ignore[return-value]


LIVE_STATS_MS = 250


@dataclass
class _Turn:
    """The reply being generated."""

    request_id: int
    conversation_id: int
    message_id: int
    sent_at: float
    prompt_tokens: int = 0
    n_ctx: int = 0
    first_token_at: float | None = None
    tokens: int = 0
    parts: list[str] = field(default_factory=list)
    flushed_len: int = 0
    # The stored messages each prompt message carries ((-1,) for the system prompt).
    prompt_ids: list[tuple[int, ...]] = field(default_factory=list)
    parent_id: int = 0  # the user message being answered
    reply: MessageRecord | None = None  # the reply's row as created (shown if unsaved)

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""


class _Preparer(QObject):
    """Assembles the default model off the GUI thread (250 MB copy + hash on first start)."""

    progressed = Signal(float)
    finished = Signal(str, str)  # path, error

    def start(self, models_dir: Path) -> threading.Thread:
        def work() -> None:
            try:
                path = ensure_default_model(models_dir, self.progressed.emit)
                self.finished.emit(str(path), "")
            except DefaultModelError as exc:
                self.finished.emit("", str(exc))

        thread = threading.Thread(target=work, name="prepare-default-model", daemon=True)
        thread.start()
        return thread


class ChatController(QObject):
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
        settings: Settings,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.client = client
        self.conversations = conversations
        self.messages = messages
        self.paths = paths
        self._choices: tuple[EngineSettings, Sampling, str | None] | None = None
        self.settings = settings
        self.model_info: ModelInfo | None = None
        self._conversation: int | None = None
        self._turn: _Turn | None = None
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
        window.context_policy.set_policy(settings.context_policy)
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
        self.titles = AutoTitler(self, window.auto_title_action, parent=self)

    # ---- start-up and model -----------------------------------------------------------

    def start(self) -> None:
        self._refresh_list()
        recent = self.conversations.list_recent()
        if recent:
            self.open_conversation(recent[0].id)
        else:
            self.new_chat()
        self.load_model()

    def load_model(self) -> None:
        if self.settings.model_path:
            self._load(self.settings.model_path)
            return
        self.window.show_loading(None, "Preparing the built-in model…")
        preparer = _Preparer(self)
        preparer.progressed.connect(
            lambda f: self.window.show_loading(f, "Preparing the built-in model…")
        )
        preparer.finished.connect(self._on_default_model_ready)
        self._preparer_thread = preparer.start(self.paths.models_dir)

    def _on_default_model_ready(self, path: str, error: str) -> None:
        if self._preparer_thread is not None:
            self._preparer_thread.join()
            self._preparer_thread = None
        if error:
            self.window.hide_loading()
            self.window.show_error(error)
            return
        self._load(path)

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value
        self._choices = None  # derived from the settings: resolved again on next use

    def _model_choices(self) -> tuple[EngineSettings, Sampling, str | None]:
        """App-wide settings with the current model's own (Models page) on top: how it is
        loaded, how replies sample, its default system prompt. Resolved once per load (it
        reads a file, and Auto GPU layers asks the GPU driver), not once per message."""
        if self._choices is None:
            path = self._model_path or ""
            own = load_model_settings(self.paths.data_dir, path) if path else None
            self._choices = engine_settings_for(self.settings, path, own)
        return self._choices

    def model_sampling(self) -> tuple[Sampling, int]:
        """How replies sample and how long they may be before a chat's own values apply."""
        return self._model_choices()[1], self.settings.max_tokens

    def _reply_sampling(self, conversation_id: int | None) -> tuple[Sampling, int]:
        record = self.conversations.get(conversation_id) if conversation_id is not None else None
        return chat_sampling(*self.model_sampling(), record.sampling if record else {})

    def sampling_changed(self) -> None:
        """A chat's sampling changed: the budget shown depends on its reply length."""
        self.context.recount()

    def _load(self, model_path: str) -> None:
        self._model_path = model_path
        self._choices = None  # the model's own settings may have changed since
        self.model_info = None
        self.context.model_changed()
        self.window.show_loading(0.0, f"Loading {name_for(model_path, self.paths.models_dir)}…")
        self._load_request = self.client.load(self._model_choices()[0])

    def _on_load_progress(self, request_id: int, fraction: float, text: str) -> None:
        if request_id == self._load_request:
            self.window.show_loading(fraction, text)

    def _on_loaded(self, request_id: int, info: ModelInfo) -> None:
        if request_id != self._load_request:
            return
        self._load_request = None
        self.model_info = info
        self.window.hide_loading()
        name = display_name(info.name, info.quantization, info.path)
        self.window.set_model_info(name, info.chat_format_label, info.backend)
        self.window.model_picker.set_current(str(Path(info.path).resolve()), name)
        is_default = Path(info.path).name == default_model_path(self.paths.models_dir).name
        if is_default and not self.settings.default_model_notice_dismissed:
            self.window.show_banner(DEFAULT_MODEL_NOTICE)
        requested = self._model_choices()[0].n_gpu_layers
        if requested != 0 and not info.gpu_offload_supported:
            self.window.show_error(
                "GPU offload was requested, but this llama.cpp build has no GPU support, so "
                "the model runs on the CPU. For an NVIDIA GPU, rebuild it: "
                'make clean-venv && make CMAKE_ARGS="-DGGML_CUDA=on" setup (the Models page '
                "shows the details)."
            )
        self.context.recount()
        self.modelReady.emit(info)

    def switch_model(self, model_path: str) -> None:
        """Use another model: the engine unloads the old one (freeing its memory) first."""
        if self._turn is not None:
            self.stop()
        # The built-in model is remembered as "none chosen" (None): every start then makes
        # sure it is unpacked, which it may not be yet (first start) or no longer be.
        builtin = is_default_model(model_path, self.paths.models_dir)
        self.settings = replace(self.settings, model_path=None if builtin else model_path)
        save_settings(self.paths.settings_file, self.settings)
        self.window.hide_banner()
        if builtin:
            self.load_model()
        else:
            self._load(model_path)

    def dismiss_default_notice(self) -> None:
        self.settings = replace(self.settings, default_model_notice_dismissed=True)
        save_settings(self.paths.settings_file, self.settings)

    # ---- conversations ------------------------------------------------------------------

    @property
    def current_conversation(self) -> int | None:
        return self._conversation

    @current_conversation.setter
    def current_conversation(self, conversation_id: int | None) -> None:
        """Every change of chat goes through here, so nothing said about the previous chat
        (its context figure or warnings, its reply's stats) stays on screen."""
        if conversation_id == self._conversation:
            return
        self._conversation = conversation_id
        self.context.chat_changed()
        if self._turn is None:
            self.window.live_stats.clear_stats()

    def refresh_list(self) -> None:
        """Show the conversations as stored now (e.g. after a title changed)."""
        self._refresh_list()

    def _refresh_list(self) -> None:
        self.window.conversations.set_conversations(self.conversations.list_recent())
        self.window.conversations.select(self.current_conversation)

    @_reports_storage_errors
    def new_chat(self) -> None:
        if self._turn is not None:
            self.stop()
        record = self.conversations.create()
        self.current_conversation = record.id
        self._leave_edit()
        self._refresh_list()
        self.window.chat_view.set_messages([])
        self.window.message_input.setFocus()

    @_reports_storage_errors
    def seed_conversation(self, title: str, messages: Sequence[tuple[Role, str]]) -> int | None:
        """A new conversation holding `messages` (e.g. a summary to discuss), shown in Chat
        with the input focused so the user can ask about it right away."""
        if self._turn is not None:
            self.stop()
        record = self.conversations.create(title)
        parent: int | None = None
        for role, content in messages:
            parent = self.messages.add(record.id, role, content, parent_id=parent).id
        self.current_conversation = record.id
        self._refresh_list()
        self.window.chat_view.set_messages(self.messages.active_path(record.id))
        self.window.pages.setCurrentIndex(0)
        self.window.message_input.setFocus()
        self.context.recount()
        return record.id

    @_reports_storage_errors
    def open_conversation(self, conversation_id: int) -> None:
        if conversation_id == self.current_conversation and self._turn is not None:
            return
        if self._turn is not None:
            self.stop()
            self._coalescer.discard()
        self.current_conversation = conversation_id
        self._leave_edit()
        self._show_conversation(conversation_id)
        self.window.conversations.select(conversation_id)
        self.context.recount()

    @_reports_storage_errors
    def rename(self, conversation_id: int, title: str) -> None:
        self.conversations.rename(conversation_id, title)
        self._refresh_list()

    @_reports_storage_errors
    def delete(self, conversation_id: int) -> None:
        if self._turn is not None and self._turn.conversation_id == conversation_id:
            self.stop()
        record = self.conversations.get(conversation_id)
        self.conversations.delete(conversation_id)
        self._deleted.append(conversation_id)
        title = record.title if record else "Chat"
        if conversation_id == self.current_conversation:
            recent = self.conversations.list_recent()
            if recent:
                self.open_conversation(recent[0].id)
            else:
                self.current_conversation = None
                self.window.chat_view.set_messages([])
        self._refresh_list()
        self.window.offer_undo(f"“{title}” deleted.")

    @_reports_storage_errors
    def undo_delete(self) -> None:
        if not self._deleted:
            return
        restored = self.conversations.restore(self._deleted.pop())
        self.current_conversation = restored.id
        self._refresh_list()
        self.open_conversation(restored.id)

    # ---- a turn -------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        """A model load is under way (the engine answers once it is done)."""
        return self._load_request is not None or self._preparer_thread is not None

    @property
    def generating(self) -> bool:
        return self._turn is not None

    @_reports_storage_errors
    def send(self, text: str) -> None:
        if not text.strip():
            return
        if self._turn is not None:
            self.window.show_error("Hearth is still answering. Stop the reply (Esc) first.")
            return
        if self.context.refuses(text):
            # Refused before storing: no overflow policy could make it fit, and the user
            # keeps the text in the box to shorten or split it.
            return
        if self._editing is not None:
            self._send_edit(text)
            return
        if (
            self.current_conversation is None
            or self.conversations.get(self.current_conversation) is None
        ):
            self.current_conversation = self.conversations.create().id
        conversation_id = self.current_conversation
        history = self.messages.active_path(conversation_id)
        parent = history[-1].id if history else None
        user = self.messages.add(conversation_id, Role.USER, text, parent_id=parent)
        self.window.message_input.clear()  # only now: the text is safely stored
        if not history:  # automatic: a title the model suggests may still replace it
            self.conversations.set_automatic_title(conversation_id, _title_from(text))
        self._refresh_list()
        self.window.chat_view.append_message(user)
        self._generate(conversation_id, user, rerender=False)

    # ---- organise: pin, system prompt, trash ---------------------------------------------

    @_reports_storage_errors
    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        self.conversations.set_pinned(conversation_id, pinned)
        self._refresh_list()

    @_reports_storage_errors
    def edit_system_prompt(self, conversation_id: int) -> None:
        record = self.conversations.get(conversation_id)
        if record is None:
            return
        text = self._ask_system_prompt(record.title, record.system_prompt or "")
        if text is not None:
            self.conversations.set_system_prompt(conversation_id, text)
            self.context.recount()

    def _ask_system_prompt(self, title: str, current: str) -> str | None:
        text, ok = QInputDialog.getMultiLineText(
            self.window,
            "System prompt",
            f"Instructions the model follows throughout “{title}” (empty: none):",
            current,
        )
        return text if ok else None

    @_reports_storage_errors
    def show_trash(self) -> None:
        self.window.trash_dialog.set_items(self.conversations.list_deleted())
        self.window.trash_dialog.show()
        self.window.trash_dialog.raise_()

    @_reports_storage_errors
    def restore_from_trash(self, conversation_id: int) -> None:
        restored = self.conversations.restore(conversation_id)
        if conversation_id in self._deleted:
            self._deleted.remove(conversation_id)
        self.window.trash_dialog.set_items(self.conversations.list_deleted())
        self.current_conversation = restored.id
        self._refresh_list()
        self.open_conversation(restored.id)

    @_reports_storage_errors
    def empty_trash(self) -> None:
        self.conversations.purge_deleted()
        self._deleted.clear()
        self.window.undo_bar.hide()
        self.window.trash_dialog.set_items([])

    # ---- edits and versions -------------------------------------------------------------

    @_reports_storage_errors
    def begin_edit(self, message_id: int) -> None:
        """Put a message's text in the input; sending it makes a new version of it (the
        old one and its replies stay, reachable with the version arrows)."""
        message = self.messages.get(message_id)
        if message is None or message.role != Role.USER or self._turn is not None:
            return
        box = self.window.message_input
        if box.toPlainText().strip() and self._editing is None:
            # Never overwrite a draft the user is typing.
            self.window.show_error("Send or clear your draft first, then edit the message.")
            return
        self._editing = message_id
        box.setPlainText(message.content)
        box.setFocus()
        self.window.edit_bar.show_message(
            "Editing your message: Enter sends it as a new version (the old one is kept)."
        )

    def cancel_edit(self) -> None:
        """The user cancelled the edit: the copied text goes too."""
        if self._editing is not None:
            self._leave_edit()
            self.window.message_input.clear()

    def _leave_edit(self) -> None:
        """Out of edit mode; whatever is in the input stays there as an ordinary draft."""
        self._editing = None
        self.window.edit_bar.hide()

    def _send_edit(self, text: str) -> None:
        original = self.messages.get(self._editing) if self._editing is not None else None
        self._leave_edit()
        if original is None or original.conversation_id != self.current_conversation:
            self.window.show_error("The message being edited no longer exists.")
            return
        user = self.messages.add(
            original.conversation_id, Role.USER, text, parent_id=original.parent_id
        )
        self.window.message_input.clear()  # only now: the text is safely stored
        self._show_conversation(original.conversation_id)
        self._generate(original.conversation_id, user, rerender=False)

    @_reports_storage_errors
    def switch_version(self, message_id: int, step: int) -> None:
        if self._turn is not None:
            self.window.show_error("Wait for the reply to finish (or stop it) to switch versions.")
            return
        shown = self.messages.select_version(message_id, step)
        if shown is not None and self.current_conversation is not None:
            self._show_conversation(self.current_conversation)
            self.window.chat_view.scroll_to_message(shown)
            self.context.recount()

    def _show_conversation(self, conversation_id: int) -> None:
        # Lazy: a long chat opens at once, older pages are read as the user scrolls up.
        path = LazyPath(self.messages, conversation_id, self._unsaved.shown)
        outside = self.messages.outside_view(conversation_id, path.ids)
        self.window.chat_view.set_messages(path, outside)

    @_reports_storage_errors
    def regenerate(self, message_id: int) -> None:
        if self._turn is not None:
            return
        old = self.messages.get(message_id)
        if old is None or old.role != Role.ASSISTANT or old.parent_id is None:
            return
        parent = self.messages.get(old.parent_id)
        if parent is None:
            return
        self._generate(old.conversation_id, parent, rerender=True)

    def stop(self) -> None:
        if self._turn is not None:
            self.client.cancel(self._turn.request_id)

    def _system_prompt(self, conversation_id: int | None) -> str | None:
        record = self.conversations.get(conversation_id) if conversation_id is not None else None
        # The chat's own system prompt, else the model's default one (Models page).
        prompt = record.system_prompt if record is not None else None
        return prompt or self._model_choices()[2]

    def _with_system_prompt(
        self, conversation_id: int | None, messages: list[ChatMessage]
    ) -> list[ChatMessage]:
        prompt = self._system_prompt(conversation_id)
        return [ChatMessage("system", prompt), *messages] if prompt else messages

    def history_prompt(self, conversation_id: int, path: list[MessageRecord]) -> list[ChatMessage]:
        """What the model is sent for `path` of this chat, system prompt included."""
        return self._with_system_prompt(conversation_id, prompt_messages(path))

    # ---- a chat that outgrew the context --------------------------------------------

    def set_context_policy(self, policy: str) -> None:
        self.settings = replace(self.settings, context_policy=policy)
        save_settings(self.paths.settings_file, self.settings)
        self.context.recount()

    @_reports_storage_errors
    def _on_context_trimmed(self, request_id: int, dropped: tuple[int, ...]) -> None:
        turn = self._turn
        if turn is None or turn.request_id != request_id:
            return
        outside = {
            message_id
            for i in dropped
            if i < len(turn.prompt_ids)
            for message_id in turn.prompt_ids[i]
        }
        path = self.messages.active_path(turn.conversation_id)
        # Rows the model is never sent (an empty or failed reply, app.chat.prompt_history)
        # that lie among the dropped ones are outside its view too; left out of the set, one
        # would split the transcript's marker in two around it.
        sent = {message_id for ids in turn.prompt_ids for message_id in ids}
        positions = [i for i, m in enumerate(path) if m.id in outside]
        if positions:
            outside.update(m.id for m in path[: positions[-1]] if m.id not in sent)
        # Stored with the reply: the marker is still there after a restart.
        self.messages.set_outside_view(turn.message_id, frozenset(outside))
        if turn.conversation_id == self.current_conversation and turn.tokens == 0:
            # Started comes before any token: re-show the transcript with the marker.
            self.window.chat_view.set_messages(
                [m for m in path if m.id != turn.message_id], outside
            )
            self.window.chat_view.begin_reply(turn.message_id)

    @_reports_storage_errors
    def _answer_overflow(self, policy: str) -> None:
        refused = self.context.take_overflow()
        if refused is None or self._turn is not None:
            return
        conversation_id, parent_id = refused
        parent = self.messages.get(parent_id)
        if parent is not None and conversation_id == self.current_conversation:
            self._generate(conversation_id, parent, rerender=True, overflow=policy)

    def _count_inputs(self) -> CountInputs | None:
        """What the next request of the chat on screen is made of; None while it cannot be
        counted (no model, or a reply is being written: counted again when it ends)."""
        info = self.model_info
        if info is None or self._turn is not None:
            return None
        conversation_id = self.current_conversation
        # Lazy: only the newest messages that could fit are read and counted (budget_probe).
        history = (
            LazyPath(self.messages, conversation_id, self._unsaved.shown)
            if conversation_id is not None
            else []
        )
        return CountInputs(
            conversation_id,
            history,
            self._system_prompt(conversation_id),
            info.n_ctx,
            self._reply_sampling(conversation_id)[1],
            trims=self.settings.context_policy != "ask",
        )

    def _generate(
        self,
        conversation_id: int,
        parent: MessageRecord,
        *,
        rerender: bool,
        overflow: str | None = None,
    ) -> None:
        self.context.reply_started()
        reply = self.messages.start_reply(conversation_id, parent.id)
        # Replies the database refused are shown and sent as the user saw them.
        path = [self._unsaved.shown(m) for m in self.messages.active_path(conversation_id)]
        if rerender:  # a regenerated reply replaces the old one on screen
            shown = [m for m in path if m.id != reply.id]
            outside = self.messages.outside_view(conversation_id, [m.id for m in shown])
            self.window.chat_view.set_messages(shown, outside)
        self.window.chat_view.begin_reply(reply.id)
        # What the model should see: failed and empty replies left out (app.chat.prompt_history).
        turns = prompt_turns(m for m in path if m.id != reply.id)
        prompt = self._with_system_prompt(conversation_id, [t.message for t in turns])
        prompt_ids = [t.ids for t in turns]
        if len(prompt) > len(turns):
            prompt_ids.insert(0, (-1,))  # the system prompt has no message row
        if self.model_info is None and self._load_request is None:
            # No engine (first use after a crash, or a failed load): start a fresh one.
            self._load(self._model_path or str(default_model_path(self.paths.models_dir)))
        sampling, max_tokens = self._reply_sampling(conversation_id)
        self.replyRequested.emit(conversation_id)
        request_id = self.client.generate(
            prompt,
            max_tokens=max_tokens,
            sampling=sampling,
            overflow=overflow or self.settings.context_policy,
        )
        self._turn = _Turn(
            request_id,
            conversation_id,
            reply.id,
            time.perf_counter(),
            prompt_ids=prompt_ids,
            parent_id=parent.id,
            reply=next((m for m in path if m.id == reply.id), reply),
        )
        self.window.set_generating(True)
        self._flush_timer.start()
        self._stats_timer.start()

    def _on_started(self, request_id: int, prompt_tokens: int, n_ctx: int) -> None:
        turn = self._turn
        if turn is not None and turn.request_id == request_id:
            turn.prompt_tokens, turn.n_ctx = prompt_tokens, n_ctx
            self._show_live_stats()

    def _on_delta(self, request_id: int, text: str, n_tokens: int) -> None:
        turn = self._turn
        if turn is None or turn.request_id != request_id:
            return
        if turn.first_token_at is None:
            turn.first_token_at = time.perf_counter()
        turn.tokens += n_tokens
        turn.parts.append(text)
        if turn.conversation_id == self.current_conversation:  # else it is saved, not shown
            self._coalescer.push(text)

    @_reports_storage_errors
    def _flush_partial(self) -> None:
        turn = self._turn
        if turn is None:
            return
        text = turn.text
        if len(text) != turn.flushed_len:
            try:
                self.messages.update_partial(turn.message_id, text)
            except DatabaseError as exc:
                # Said once, not every second; the next flush tries again with all the text.
                if self._storage_error is None:
                    self._report_storage_error(exc)
                return
            turn.flushed_len = len(text)
            self._storage_recovered()

    def _show_live_stats(self) -> None:
        turn = self._turn
        if turn is None:
            return
        now = time.perf_counter()
        tps = ttft = None
        if turn.first_token_at is not None:
            ttft = (turn.first_token_at - turn.sent_at) * 1000
            elapsed = now - turn.first_token_at
            tps = (turn.tokens - 1) / elapsed if turn.tokens > 1 and elapsed > 0 else None
        self.window.live_stats.show_live(tps, ttft, turn.prompt_tokens + turn.tokens, turn.n_ctx)

    def _end_turn(self) -> _Turn | None:
        turn, self._turn = self._turn, None
        self._coalescer.flush()
        self._flush_timer.stop()
        self._stats_timer.stop()
        self.window.set_generating(False)
        return turn

    @_reports_storage_errors
    def _on_finished(self, request_id: int, done: Done) -> None:
        if self._turn is None or self._turn.request_id != request_id:
            return
        turn = self._end_turn()
        assert turn is not None
        if done.stats.stop_reason == ErrorKind.CANCELLED and not done.text:
            self._drop_unanswered(turn)
            return
        stats = StatsRecord(**asdict(done.stats))
        record = self._finish_reply(turn, done.text, MessageStatus.COMPLETE, stats=stats)
        self._show_finished(record)
        self.window.live_stats.show_final(stats, stats.prompt_tokens + stats.completion_tokens)
        self.context.recount()
        if record.id not in self._unsaved:  # else once it is stored (_save_unsaved)
            self.replyFinished.emit(record.id)

    def _finish_reply(
        self,
        turn: _Turn,
        content: str,
        status: MessageStatus,
        *,
        stats: StatsRecord | None = None,
        error: str | None = None,
    ) -> MessageRecord:
        """Store how the reply ended. When the database refuses (disk full), the reply is
        kept in memory as shown and saved once writing works again (app.chat.unsaved_replies)."""
        try:
            return self.messages.finish_reply(
                turn.message_id, content, status, stats=stats, error=error
            )
        except RecordNotFoundError:
            raise
        except DatabaseError as exc:
            if turn.reply is None:
                raise
            shown = replace(turn.reply, content=content, status=status, stats=stats, error=error)
            self._unsaved.keep(shown)
            self._save_timer.start()
            self._report_storage_error(exc)
            return shown

    def _save_unsaved(self) -> None:
        """Offer the replies the database refused to it again (timer, and before every
        action that touches storage)."""
        if not self._unsaved:
            return
        try:
            saved = self._unsaved.save()
        except DatabaseError:
            return  # still refused: kept, and the timer tries again
        self._save_timer.stop()
        self._storage_recovered()
        for record in saved:
            if record.status is MessageStatus.COMPLETE:
                self.replyFinished.emit(record.id)

    def _report_storage_error(self, exc: DatabaseError) -> None:
        text = f"Your chats could not be saved: {exc}"
        if self._unsaved:
            text += (
                " The reply stays on screen and is saved as soon as writing works again; "
                "keep Hearth open until then."
            )
        self._storage_error = text
        self.window.show_error(text)

    def _storage_recovered(self) -> None:
        """A write worked again: the storage error goes, unless a reply is still unsaved."""
        if self._storage_error is None or self._unsaved:
            return
        bar = self.window.error_bar
        if bar.isVisible() and bar.label.text() == self._storage_error:
            # Said where the error was (the status bar has no room beside the stats), and
            # gone by itself.
            bar.show_message("Your chats are saved again.", timeout_ms=SAVED_AGAIN_MS)
        self._storage_error = None

    def _drop_unanswered(self, turn: _Turn) -> None:
        """The user stopped the reply before its first token (often while the engine was
        busy with a summary): no reply row is kept. An empty reply shown as an error would be
        noise, and the user's message stays, so sending again or editing it asks again; a
        reply cut off by a crash, by contrast, is kept and says why."""
        self.messages.discard_reply(turn.message_id)
        if turn.conversation_id == self.current_conversation:
            self._show_conversation(turn.conversation_id)  # the empty reply goes from view
            # A grey line, not stored: gone the next time the chat is shown.
            self.window.chat_view.show_notice("Stopped before the reply began.")
        self.context.recount()

    def _show_finished(self, record: MessageRecord) -> None:
        if record.conversation_id == self.current_conversation:
            self.window.chat_view.finish_reply(record)

    @_reports_storage_errors
    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        plain = message.split("\n", 1)[0]
        if request_id == self._load_request:
            self._load_request = None
            self.window.hide_loading()
            self.window.model_picker.set_current("")  # nothing is loaded now; say so
            self.window.show_error(f"The model could not be loaded. {plain}")
        turn = self._turn
        if turn is not None and turn.request_id == request_id:
            self._end_turn()
            if kind == ErrorKind.CANCELLED and not turn.text:
                self._drop_unanswered(turn)
                return
            record = self._finish_reply(turn, turn.text, MessageStatus.ERROR, error=plain)
            self._show_finished(record)
            on_screen = turn.conversation_id == self.current_conversation
            if kind == "prompt_too_long" and len(turn.prompt_ids) > 1 and on_screen:
                self.context.ask_overflow(
                    turn.conversation_id,
                    turn.parent_id,
                    f"{plain} Hearth can leave older turns out of the model's view (they stay "
                    "in your history, marked in the transcript). Answer again:",
                )
            elif kind != "prompt_too_long" and request_id != self._load_request:
                # Too long: the reply says why in the transcript, the context line what to do.
                self.window.show_error(plain)
            self.context.recount()

    @_reports_storage_errors
    def _on_crashed(self, reason: str) -> None:
        self.model_info = None
        self.context.model_changed()
        self._load_request = None
        self.window.hide_loading()
        turn = self._turn
        if turn is not None:
            self._end_turn()
            record = self._finish_reply(turn, turn.text, MessageStatus.INTERRUPTED, error=reason)
            self._show_finished(record)
        self.window.set_model_info("no model loaded", "", "engine stopped")
        self.window.show_error(
            f"{reason} Your chat is saved. The next message starts the engine again."
        )

    # ---- shutdown -----------------------------------------------------------------------

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


def _title_from(text: str, limit: int = 48) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
