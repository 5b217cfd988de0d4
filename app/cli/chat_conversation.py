"""`hearth chat --conversation ID`: a turn of a stored conversation from the command line
(issue 13). The prompt is the conversation's active branch as the window sends it
(app.chat.prompt_history, the chat's system prompt first), the user's message and the reply
are stored as the window stores them (the reply with its stats and trace), and the request
carries the state key "chat:ID", so a new process restores the conversation's kept KV state
instead of reading the whole history again."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from app.chat.prompt_history import prompt_messages
from app.chat.state_keys import chat_state_key
from app.config.paths import resolve_paths
from inference.protocol import ChatMessage, Done, ModelInfo

if TYPE_CHECKING:
    from storage.database import Database
    from storage.records import MessageRecord


class ConversationUnavailableError(Exception):
    """The conversation cannot be continued; the message says why, in the user's words."""


def state_key(conversation_id: int) -> str:
    """The key a conversation's KV state is kept under: the window's spelling."""
    return chat_state_key(conversation_id)


class StoredTurn:
    """One turn of a stored conversation. Open it, build the prompt (`messages`), `begin`
    before sending, `finish` or `fail` after; `close` always."""

    def __init__(self, database: Database, conversation_id: int, system: str | None) -> None:
        from storage.chats import ConversationRepository, MessageRepository

        self._database = database
        self.conversation_id = conversation_id
        self._messages = MessageRepository(database)
        record = ConversationRepository(database).get(conversation_id)
        if record is None:
            raise ConversationUnavailableError(
                f"there is no conversation {conversation_id} (see the ids `hearth import` "
                "and `hearth export` print)"
            )
        self._system = system or record.system_prompt
        self._path: list[MessageRecord] = self._messages.active_path(conversation_id)
        self._reply: MessageRecord | None = None

    @classmethod
    def open(cls, conversation_id: int, system: str | None) -> StoredTurn:
        """Raises ConversationUnavailableError (a missing chat, an unreadable history)."""
        from app.chat.recovery import open_chat_history
        from storage.errors import DatabaseError

        try:
            database, _ = open_chat_history(resolve_paths().ensure_for_history().database)
        except DatabaseError as exc:
            raise ConversationUnavailableError(str(exc)) from exc
        try:
            return cls(database, conversation_id, system)
        except BaseException:
            database.close()
            raise

    def messages(self, prompt: str) -> list[ChatMessage]:
        """What the model is sent: the active branch, then `prompt` as the user's turn."""
        messages = prompt_messages(self._path, next_user=prompt)
        return [ChatMessage("system", self._system), *messages] if self._system else messages

    def begin(self, prompt: str) -> None:
        """Store the user's message and the empty reply the answer goes into."""
        from storage.records import Role

        parent = self._path[-1].id if self._path else None
        asked = self._messages.add(self.conversation_id, Role.USER, prompt, parent_id=parent)
        self._reply = self._messages.start_reply(self.conversation_id, asked.id)

    def finish(self, done: Done, info: ModelInfo, gpu_layers_requested: int) -> int:
        """Store the reply with its stats and trace; returns its message id."""
        from app.chat.trace_record import model_facts, trace_record
        from storage.records import MessageStatus, StatsRecord

        assert self._reply is not None
        facts = model_facts(info, gpu_layers_requested)
        trace = trace_record(done.trace, None, facts) if done.trace is not None else None
        stats = StatsRecord(**asdict(done.stats))
        status = (
            MessageStatus.INTERRUPTED
            if done.stats.stop_reason == "cancelled"
            else MessageStatus.COMPLETE
        )
        self._messages.finish_reply(self._reply.id, done.text, status, stats=stats, trace=trace)
        return self._reply.id

    def fail(self, message: str) -> None:
        from storage.records import MessageStatus

        if self._reply is not None:
            self._messages.finish_reply(self._reply.id, "", MessageStatus.ERROR, error=message)

    def close(self) -> None:
        self._database.close()
