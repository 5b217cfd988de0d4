"""What the model is shown of a stored chat branch.

The history keeps everything the user saw, replies that failed or were cut off included, so
the transcript tells the truth. The model is shown only real turns:

- user messages with text;
- replies with text that finished or were interrupted (a crash, the app closing): their text
  is what the model said, and the user read it;
- never an empty reply, an error reply (its text, if any, is not an answer the user got), a
  damaged row, or a reply still being written.

Leaving a reply out puts two user messages next to each other, and strict chat formats
(Gemma's) refuse two user turns in a row or a conversation that starts with the model. So
consecutive messages of one role become one turn, and replies before the first question
are left out. Every format accepts that, and the model answers all of what the user asked.
Because the result depends only on the stored rows, the prompt of a chat is the same on
every turn (prompt-cache reuse needs that), and chats stored in a broken state work again
without the user doing anything.

No Qt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inference.protocol import ChatMessage
from storage.records import MessageRecord, MessageStatus, Role

# Between two messages of one role merged into one turn: a paragraph break.
MERGE_SEPARATOR = "\n\n"

_SHOWN_REPLIES = (MessageStatus.COMPLETE, MessageStatus.INTERRUPTED)


def seen_by_model(record: MessageRecord) -> bool:
    """Whether the model is shown this stored message (module docstring)."""
    if not record.content.strip():
        return False
    if record.role is Role.ASSISTANT:
        return record.status in _SHOWN_REPLIES
    return record.status not in (MessageStatus.DAMAGED, MessageStatus.STREAMING)


@dataclass(frozen=True)
class PromptTurn:
    """One message of the prompt and the stored messages it carries (none for a draft)."""

    message: ChatMessage
    ids: tuple[int, ...]


def prompt_turns(records: Iterable[MessageRecord], next_user: str = "") -> list[PromptTurn]:
    """The turns the model is sent for `records` (a branch, oldest first), followed by
    `next_user` (a message not stored yet, such as the draft) when given."""
    items = [(m.role.value, m.content, (m.id,)) for m in records if seen_by_model(m)]
    if next_user:
        items.append((Role.USER.value, next_user, ()))
    turns: list[PromptTurn] = []
    for role, content, ids in items:
        if role == Role.ASSISTANT.value and not any(t.message.role == "user" for t in turns):
            continue  # an answer with no question before it (its question was damaged)
        last = turns[-1] if turns else None
        if last is not None and last.message.role == role and role != Role.SYSTEM.value:
            merged = ChatMessage(role, last.message.content + MERGE_SEPARATOR + content)
            turns[-1] = PromptTurn(merged, last.ids + ids)
        else:
            turns.append(PromptTurn(ChatMessage(role, content), ids))
    return turns


def prompt_messages(records: Iterable[MessageRecord], next_user: str = "") -> list[ChatMessage]:
    """`prompt_turns` without the message ids."""
    return [turn.message for turn in prompt_turns(records, next_user)]
