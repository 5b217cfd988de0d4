"""Walking the message tree. Edits and regenerations add sibling rows under one parent; the
view shows the newest sibling while older versions stay stored."""

from __future__ import annotations

from collections.abc import Sequence

from storage.records import MessageRecord


def active_branch(messages: Sequence[MessageRecord]) -> list[MessageRecord]:
    """From the oldest root, follow the newest (highest id) child at each step.

    Ids, not created_at, decide "newest": they are assigned in insertion order and never tie.
    A row whose parent lies outside `messages` is unreachable and simply not shown.
    """
    newest_child: dict[int | None, MessageRecord] = {}
    oldest_root: MessageRecord | None = None
    for message in sorted(messages, key=lambda m: m.id):
        if message.parent_id is None:
            if oldest_root is None:
                oldest_root = message
        else:
            newest_child[message.parent_id] = message
    path: list[MessageRecord] = []
    seen: set[int] = set()
    current = oldest_root
    # `seen` guards against a parent cycle written by hand or by a bug.
    while current is not None and current.id not in seen:
        path.append(current)
        seen.add(current.id)
        current = newest_child.get(current.id)
    return path
