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
    by_id = {m.id: m for m in messages}
    return [by_id[i] for i in active_branch_ids([(m.id, m.parent_id) for m in messages])]


def active_branch_ids(pairs: Sequence[tuple[int, int | None]]) -> list[int]:
    """`active_branch` on (id, parent_id) pairs only, for paths read without their text."""
    newest_child: dict[int, int] = {}
    oldest_root: int | None = None
    for message_id, parent_id in sorted(pairs):
        if parent_id is None:
            if oldest_root is None:
                oldest_root = message_id
        else:
            newest_child[parent_id] = message_id
    path: list[int] = []
    seen: set[int] = set()
    current = oldest_root
    # `seen` guards against a parent cycle written by hand or by a bug.
    while current is not None and current not in seen:
        path.append(current)
        seen.add(current)
        current = newest_child.get(current)
    return path
