"""The plain shape every reader of another app's export produces, and the one place that
turns it into Hearth conversations: the tree is checked here (unique ids, known parents, no
cycle: a hostile file cannot make this loop), left-out messages are bridged (their replies
hang on the nearest message kept), and what was left out is counted for the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.chat.importer import ChatImportError
from storage.bulk_import import NewConversation, NewMessage
from storage.chats import DEFAULT_TITLE
from storage.records import MessageStatus, Role, TitleSource

# What a reader leaves out, in the words the summary uses ("3 skipped: images, tool calls").
IMAGES = "images"
FILES = "attachments"
TOOL_CALLS = "tool calls"
REASONING = "reasoning"
SYSTEM = "system messages"
OTHER = "other content"
EMPTY_CHATS = "empty chats"


@dataclass(frozen=True)
class ForeignMessage:
    """One message as the source app stored it. `skip` names why it is left out (None: kept);
    a left-out message's replies hang on its own parent instead."""

    id: str
    parent: str | None
    role: Role
    text: str
    created: datetime | None = None
    status: MessageStatus = MessageStatus.COMPLETE
    skip: str | None = None  # "": left out, not worth a mention (an empty root)
    # Parts of a kept message that were left out (an image beside the text), by reason.
    dropped: Sequence[str] = ()


@dataclass(frozen=True)
class ForeignChat:
    """One conversation. `current` is the message whose branch the source showed (any message
    on it, usually the last); None shows the newest versions."""

    where: str  # "Conversation 3 ('Trip')", for messages about it
    title: str
    messages: Sequence[ForeignMessage]
    created: datetime | None = None
    updated: datetime | None = None
    current: str | None = None
    system_prompt: str | None = None
    pinned: bool = False
    skipped: Counter[str] = field(default_factory=Counter)  # left out before messages existed


def _kept_parents(chat: ForeignChat) -> dict[str, str | None]:
    """Each message's nearest kept ancestor (None: it starts the chat). Refuses duplicate ids,
    unknown parents and cycles; iterative, so a chain of any length cannot recurse too deep."""
    by_id: dict[str, ForeignMessage] = {}
    for message in chat.messages:
        if message.id in by_id:
            raise ChatImportError(
                f"{chat.where}: the message id {message.id[:60]!r} appears twice."
            )
        by_id[message.id] = message
    for message in chat.messages:
        if message.parent is not None and message.parent not in by_id:
            raise ChatImportError(
                f"{chat.where}: message {message.id[:60]!r} answers {message.parent[:60]!r}, "
                "which is not in the chat."
            )
    resolved: dict[str, str | None] = {}
    for start in by_id:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in resolved:
            if node in on_path:
                raise ChatImportError(
                    f"{chat.where}: the messages' parents form a cycle (at {node[:60]!r})."
                )
            on_path.add(node)
            path.append(node)
            node = by_id[node].parent
        # `node` is None or resolved: walk the path back, each one's answer is known now.
        above = None if node is None else (node if by_id[node].skip is None else resolved[node])
        for key in reversed(path):
            resolved[key] = above
            if by_id[key].skip is None:
                above = key
    return resolved


def _order(kept: list[ForeignMessage]) -> list[ForeignMessage]:
    """The order keys are handed out in, which is the order of sibling versions in Hearth (the
    newest is the highest key): by time when every message has one, else as the file lists."""
    if all(m.created is not None for m in kept):
        return sorted(kept, key=lambda m: m.created or datetime.min.replace(tzinfo=UTC))
    return kept


def to_conversation(
    chat: ForeignChat, now: datetime
) -> tuple[NewConversation | None, Counter[str]]:
    """The Hearth conversation (None when nothing in it can be kept) and what was left out."""
    skipped: Counter[str] = Counter(chat.skipped)
    parents = _kept_parents(chat)
    for message in chat.messages:
        if message.skip:  # "" leaves a message out without counting it (an empty root)
            skipped[message.skip] += 1
        skipped.update(message.dropped)
    kept = _order([m for m in chat.messages if m.skip is None])
    if not kept:
        skipped[EMPTY_CHATS] += 1
        return None, skipped
    keys = {m.id: n for n, m in enumerate(kept, 1)}
    started = chat.created or min((m.created for m in kept if m.created), default=now)
    messages = [
        NewMessage(
            key=keys[m.id],
            parent_key=None if parents[m.id] is None else keys[parents[m.id] or ""],
            role=m.role.value,
            content=m.text,
            status=m.status.value,
            created_at=m.created or started,
            updated_at=m.created or started,
        )
        for m in kept
    ]
    latest = max((m.created for m in kept if m.created), default=started)
    conversation = NewConversation(
        title=chat.title or DEFAULT_TITLE,
        created_at=started,
        updated_at=max(chat.updated or latest, latest),
        messages=messages,
        pinned=chat.pinned,
        system_prompt=chat.system_prompt or None,
        title_source=TitleSource.USER,  # named in the other app: never retitled here
        shown_keys=_shown(chat, parents, keys),
    )
    return conversation, skipped


def _shown(chat: ForeignChat, parents: dict[str, str | None], keys: dict[str, int]) -> list[int]:
    if chat.current is None or chat.current not in parents:
        return []
    node: str | None = chat.current if chat.current in keys else parents[chat.current]
    path: list[int] = []
    while node is not None:  # the parents were checked for cycles above
        path.append(keys[node])
        node = parents[node]
    return path[::-1]
