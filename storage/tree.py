"""Walking the message tree. Edits and regenerations add sibling rows under one parent (the
versions of a message); the view shows the version the user chose, else the newest, and
every older version stays stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from storage.records import MessageRecord

Pairs = Sequence[tuple[int, int | None]]  # (message id, parent id)


def active_branch(
    messages: Sequence[MessageRecord], chosen: Mapping[int | None, int] | None = None
) -> list[MessageRecord]:
    """From the root, follow the chosen version at each step, else the newest (highest id).

    Ids, not created_at, decide "newest": they are assigned in insertion order and never tie.
    A row whose parent lies outside `messages` is unreachable and simply not shown. Records
    come back with their version numbers filled in.
    """
    by_id = {m.id: m for m in messages}
    pairs = [(m.id, m.parent_id) for m in messages]
    versions = version_numbers(pairs)
    return [
        replace(by_id[i], version=versions[i][0], version_count=versions[i][1])
        for i in active_branch_ids(pairs, chosen)
    ]


def active_branch_ids(pairs: Pairs, chosen: Mapping[int | None, int] | None = None) -> list[int]:
    """`active_branch` on (id, parent_id) pairs only, for paths read without their text.

    `chosen` maps a parent id (None for the first message) to the version the user picked;
    a choice that is not a child of that parent is ignored.
    """
    return _walk(_children(pairs), chosen or {})


def shown_branch(
    pairs: Pairs, chosen: Mapping[int | None, int] | None = None
) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """`active_branch_ids` and `version_numbers` from one children map (a 10,000-message
    chat is opened on every click; building the map is most of the work)."""
    children = _children(pairs)
    return _walk(children, chosen or {}), _numbers(children)


def _walk(children: Mapping[int | None, list[int]], chosen: Mapping[int | None, int]) -> list[int]:
    def pick(parent: int | None) -> int | None:
        options = children.get(parent)
        if not options:
            return None
        choice = chosen.get(parent)
        return choice if choice in options else options[-1]

    path: list[int] = []
    seen: set[int] = set()
    current = pick(None)
    # `seen` guards against a parent cycle written by hand or by a bug.
    while current is not None and current not in seen:
        path.append(current)
        seen.add(current)
        current = pick(current)
    return path


def version_numbers(pairs: Pairs) -> dict[int, tuple[int, int]]:
    """For each id: (its 1-based place among its parent's children, how many there are)."""
    return _numbers(_children(pairs))


def _numbers(children: Mapping[int | None, list[int]]) -> dict[int, tuple[int, int]]:
    return {
        child: (place, len(siblings))
        for siblings in children.values()
        for place, child in enumerate(siblings, start=1)
    }


def _children(pairs: Pairs) -> dict[int | None, list[int]]:
    """parent id (None: the first messages) → its children's ids, oldest first."""
    children: dict[int | None, list[int]] = {}
    for message_id, parent_id in sorted(pairs):
        children.setdefault(parent_id, []).append(message_id)
    return children
