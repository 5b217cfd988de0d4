"""The chat presenter's conversations: the list, opening and new chats, pins, system
prompts, the trash, and edits of a message with its versions. A mixin of ChatController
(app/gui/chat/controller.py)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QInputDialog

from app.chat.lazy_path import LazyPath
from app.chat.state_keys import chat_state_key
from app.config.paths import HearthPaths
from app.gui.chat.context_state import ContextState
from app.gui.chat.storage_errors import StorageErrors, reports_storage_errors
from app.gui.chat.turn import Turn
from app.gui.chat.warming import ChatWarming
from app.gui.tasks import TaskContext, TaskRunner
from inference.state_files import StateFiles
from storage.chats import ConversationRepository
from storage.records import Role
from ui.widgets.delta_coalescer import DeltaCoalescer


class ConversationList(StorageErrors):
    """Part of ChatController: the attributes below are set in its __init__."""

    conversations: ConversationRepository
    context: ContextState
    _turn: Turn | None
    _conversation: int | None
    _deleted: list[int]
    _editing: int | None  # the user message being edited
    _coalescer: DeltaCoalescer
    paths: HearthPaths
    _background: TaskRunner  # forgets deleted chats' kept KV states
    warming: ChatWarming  # restores an opened chat's kept KV state ahead (issue 13)

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
        self.warming.chat_changed()  # a read of the last chat's unsent text is not sent
        if self._turn is None:
            self.window.live_stats.clear_stats()
            self.window.speed_plot.clear_points()

    def refresh_list(self) -> None:
        """Show the conversations as stored now (e.g. after a title changed)."""
        self._refresh_list()

    def _refresh_list(self) -> None:
        self.window.conversations.set_conversations(self.conversations.list_recent())
        self.window.conversations.select(self.current_conversation)

    @reports_storage_errors
    def new_chat(self) -> None:
        if self._turn is not None:
            self.stop()
        record = self.conversations.create()
        self.current_conversation = record.id
        self._leave_edit()
        self._refresh_list()
        self.window.chat_view.set_messages([])
        self.window.message_input.setFocus()

    @reports_storage_errors
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

    @reports_storage_errors
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
        self.warming.schedule()

    @reports_storage_errors
    def rename(self, conversation_id: int, title: str) -> None:
        self.conversations.rename(conversation_id, title)
        self._refresh_list()

    @reports_storage_errors
    def delete(self, conversation_id: int) -> None:
        if self._turn is not None and self._turn.conversation_id == conversation_id:
            self.stop()
        record = self.conversations.get(conversation_id)
        self.conversations.delete(conversation_id)
        self._forget_kept_states([conversation_id])
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

    @reports_storage_errors
    def undo_delete(self) -> None:
        if not self._deleted:
            return
        restored = self.conversations.restore(self._deleted.pop())
        self.current_conversation = restored.id
        self._refresh_list()
        self.open_conversation(restored.id)

    @reports_storage_errors
    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        self.conversations.set_pinned(conversation_id, pinned)
        self._refresh_list()

    @reports_storage_errors
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

    @reports_storage_errors
    def show_trash(self) -> None:
        self.window.trash_dialog.set_items(self.conversations.list_deleted())
        self.window.trash_dialog.show()
        self.window.trash_dialog.raise_()

    @reports_storage_errors
    def restore_from_trash(self, conversation_id: int) -> None:
        restored = self.conversations.restore(conversation_id)
        if conversation_id in self._deleted:
            self._deleted.remove(conversation_id)
        self.window.trash_dialog.set_items(self.conversations.list_deleted())
        self.current_conversation = restored.id
        self._refresh_list()
        self.open_conversation(restored.id)

    @reports_storage_errors
    def empty_trash(self) -> None:
        # Forgotten when trashed already; again now for a state a reply still being written
        # then saved afterwards.
        trashed = [record.id for record in self.conversations.list_deleted()]
        self.conversations.purge_deleted()
        self._forget_kept_states(trashed)
        self._deleted.clear()
        self.window.undo_bar.hide()
        self.window.trash_dialog.set_items([])

    def _forget_kept_states(self, conversation_ids: Sequence[int]) -> None:
        """Delete the KV states the engine kept for these chats (issue 13): a deleted chat's
        history must not stay on disk in another form. On a worker thread: a few unlinks,
        but freeing a state of several GB on a slow disk is not instant. Undoing the delete
        costs one full read of the history at its next turn, nothing more."""
        if not conversation_ids:
            return
        folder = self.paths.kv_states_dir
        keys = [chat_state_key(i) for i in conversation_ids]

        def forget(_context: TaskContext) -> int:  # worker thread
            files = StateFiles(folder)
            return sum(files.forget(key) for key in keys)

        self._background.start(forget, name="forget-kept-states", lane="forget-kept-states")

    @reports_storage_errors
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

    @reports_storage_errors
    def switch_version(self, message_id: int, step: int) -> None:
        if self._turn is not None:
            self.window.show_error("Wait for the reply to finish (or stop it) to switch versions.")
            return
        shown = self.messages.select_version(message_id, step)
        if shown is not None and self.current_conversation is not None:
            self._show_conversation(self.current_conversation)
            self.window.chat_view.scroll_to_message(shown)
            self.context.recount()
            self.warming.schedule()  # another branch: its state, if one is kept

    def _show_conversation(self, conversation_id: int) -> None:
        # Lazy: a long chat opens at once, older pages are read as the user scrolls up.
        path = LazyPath(self.messages, conversation_id, self._unsaved.shown)
        outside = self.messages.outside_view(conversation_id, path.ids)
        self.window.chat_view.set_messages(path, outside)
