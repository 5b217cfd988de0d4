"""What the context budget under the input asks the engine to count.

The budget shows how much of the model's context the next request would use. Counting a
10,000-message chat (or a 5 MB paste) whole after every pause in typing would tokenize
megabytes that can never fit. So the count starts with the newest text that could fill the
context a few times over and widens only while what was counted still fits: the figure is
exact whenever the request could fit, and a lower bound (at least the whole context) when it
cannot. Adding messages never lowers a prompt's count: each message's text and its template
glue are tokenized separately (inference/process/prompt_tokens.py).

No Qt; the GUI thread uses it between count requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.chat.prompt_history import prompt_messages, seen_by_model
from inference.protocol import ChatMessage
from storage.records import MessageRecord

# Text averages 3-5 bytes per token; starting at 8 makes one request enough for most chats.
START_BYTES_PER_TOKEN = 8
_READ_CHUNK = 64  # records read from the database at a time, newest first


@dataclass(frozen=True)
class BudgetProbe:
    messages: list[ChatMessage]
    complete: bool  # everything the next request sends is in `messages`
    # Only the system prompt and (the beginning of) the draft: if that does not fit, no
    # overflow policy can help, since both are always sent.
    draft_only: bool = False


class BudgetPlan:
    """The count requests for one state of the chat and draft: `probe()`, and after a count
    that still fits, `widen()` then `probe()` again."""

    def __init__(
        self,
        history: Sequence[MessageRecord],
        system_prompt: str | None,
        draft: str,
        n_ctx: int,
    ) -> None:
        self._history = history  # may be lazy: only slices from the end are read
        self._system = system_prompt or ""
        self.draft = draft
        self._draft = draft if draft.strip() else ""
        self._goal = max(1, n_ctx) * START_BYTES_PER_TOKEN  # bytes of text to count
        self._newest: list[MessageRecord] = []  # sendable records read so far, oldest first
        self._read_from = len(history)  # history[_read_from:] has been read

    def probe(self) -> BudgetProbe:
        room = self._goal - _size(self._system)
        draft, complete = self._draft, True
        if _size(draft) > room:
            # Its beginning alone outweighs the goal; a prefix counts no more than the whole.
            draft, complete = draft.encode("utf-8")[: max(room, 0)].decode("utf-8", "ignore"), False
        room -= _size(draft)
        chosen: list[MessageRecord] = []
        while room > 0:
            if len(chosen) == len(self._newest):
                if self._read_more():
                    continue
                break
            record = self._newest[-1 - len(chosen)]
            chosen.append(record)
            room -= _size(record.content)
        complete = complete and len(chosen) == len(self._newest) and self._read_from == 0
        # Merged into turns as a request would be (app.chat.prompt_history): a draft after a
        # question whose reply failed joins that question.
        messages = prompt_messages(reversed(chosen), next_user=draft)
        if self._system:
            messages.insert(0, ChatMessage("system", self._system))
        return BudgetProbe(messages, complete, draft_only=bool(draft) and not chosen)

    def widen(self) -> None:
        self._goal *= 2

    def _read_more(self) -> bool:
        if self._read_from == 0:
            return False
        start = max(0, self._read_from - _READ_CHUNK)
        self._newest[:0] = [m for m in self._history[start : self._read_from] if seen_by_model(m)]
        self._read_from = start
        return True


def _size(text: str) -> int:
    return len(text.encode("utf-8"))
