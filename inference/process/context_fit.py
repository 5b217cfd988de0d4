"""Fitting a conversation that outgrew the context window, by a policy the user chose.

Never silent: the caller gets the indices of the messages it left out so the transcript can
mark the gap. System messages and the newest user message are always kept; turns are
dropped whole (a user message with the replies that follow it) so roles keep alternating,
which strict chat templates such as Gemma's require.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from inference.protocol import ChatMessage


class OverflowPolicy(StrEnum):
    FAIL = "fail"  # only a prompt that cannot fit at all is refused
    ASK = "ask"  # also refuse a prompt that leaves no room for the answer: the app asks
    DROP_OLDEST = "drop_oldest"
    KEEP_ENDS = "keep_ends"  # keep the first exchange and the latest turns, drop the middle


def reply_reserve(n_ctx: int, max_tokens: int) -> int:
    """Room kept free for the answer: a prompt that fills the window leaves no reply."""
    return max(1, min(max_tokens, n_ctx // 4))


def _turns(messages: Sequence[ChatMessage]) -> list[list[int]]:
    """Indices of non-system messages grouped into turns, each starting at a user message."""
    turns: list[list[int]] = []
    for index, message in enumerate(messages):
        if message.role == "system":
            continue
        if message.role == "user" or not turns:
            turns.append([index])
        else:
            turns[-1].append(index)
    return turns


def fit_messages(
    messages: Sequence[ChatMessage],
    count: Callable[[Sequence[ChatMessage]], int],
    limit: int,
    policy: OverflowPolicy,
) -> tuple[list[ChatMessage], tuple[int, ...]]:
    """The messages to send and the indices left out, so that `count(kept) <= limit`.

    Returns the messages unchanged when they fit. When nothing but the system prompt and the
    last turn is left and it still does not fit, returns that (the engine then reports the
    prompt as too long, which is the truth).
    """
    if policy in (OverflowPolicy.FAIL, OverflowPolicy.ASK) or count(messages) <= limit:
        return list(messages), ()
    turns = _turns(messages)
    first_droppable = 1 if policy is OverflowPolicy.KEEP_ENDS and len(turns) > 2 else 0
    droppable = turns[first_droppable:-1]

    def without(k: int) -> tuple[list[ChatMessage], set[int]]:
        gone = {i for turn in droppable[:k] for i in turn}
        return [m for i, m in enumerate(messages) if i not in gone], gone

    # Fewest dropped turns that fit, by bisection: each probe is one exact count (template
    # glue included), so a long chat costs log2(turns) tokenizations, not one per turn.
    low, high = 1, len(droppable)
    while low < high:
        middle = (low + high) // 2
        if count(without(middle)[0]) <= limit:
            high = middle
        else:
            low = middle + 1
    kept, gone = without(high)
    return kept, tuple(sorted(gone))
