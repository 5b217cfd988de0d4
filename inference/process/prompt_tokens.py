"""Builds prompt token ids so that a follow-up turn re-uses the KV cache.

llama.cpp only skips the longest common token prefix with what it evaluated before, so a
re-rendered history must be token-identical. Two things break that if done naively: the
model's own reply re-tokenized from its text differs from the ids it sampled, and tokenizing
the whole prompt at once lets a new message merge with the template text before it. So the
rendered prompt is split into template "glue" and message contents, each tokenized on its
own, and replies the engine generated are replaced by the exact ids it sampled.
"""

from __future__ import annotations

import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inference.protocol import ChatMessage
from inference.templates import ChatFormat, render_prompt, should_add_bos

Tokenize = Callable[[str, bool], list[int]]  # (text, parse_special) -> ids, never adds BOS

# A user message that cannot occur in practice: marks where the next user turn will begin.
_NEXT_TURN_MARK = "\u2063hearth-next-turn\u2063"


@dataclass(frozen=True)
class TokenVocabulary:
    bos_id: int | None
    bos_text: str
    eos_text: str
    # The GGUF's tokenizer.ggml.add_bos_token, as llama.cpp reads it (see should_add_bos).
    add_bos: bool


class ReplyTokenMemory:
    """Remembers the sampled ids of recent replies, keyed by their exact text."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, list[int]] = OrderedDict()

    def remember(self, text: str, ids: Sequence[int]) -> None:
        if not text:
            return
        self._items[text] = list(ids)
        self._items.move_to_end(text)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def get(self, text: str) -> list[int] | None:
        ids = self._items.get(text)
        if ids is not None:
            self._items.move_to_end(text)
        return ids


class MessageTokenCache:
    """The ids of message texts tokenized before (never parsing special tokens), least
    recently used dropped first once they hold more than `capacity` tokens.

    Why: every turn re-renders the whole history, and tokenizing it again costs time
    linear in its length at Enter (7.7 ms for a 4,000-token history on Gemma's 262,144-token
    vocabulary, here); a message's ids depend only on its text, because each message is
    tokenized on its own. Kept as int32 arrays: 4 bytes a token, not a Python int's 36."""

    def __init__(self, capacity: int = 1 << 20) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, array[int]] = OrderedDict()
        self._tokens = 0

    def ids(self, text: str, tokenize: Tokenize) -> array[int]:
        known = self._items.get(text)
        if known is not None:
            self._items.move_to_end(text)
            return known
        ids = array("i", tokenize(text, False))
        if len(ids) <= self._capacity:
            self._items[text] = ids
            self._tokens += len(ids)
            while self._tokens > self._capacity:
                self._tokens -= len(self._items.popitem(last=False)[1])
        return ids

    @property
    def tokens(self) -> int:
        return self._tokens


class PromptBuilder:
    def __init__(
        self,
        fmt: ChatFormat,
        vocab: TokenVocabulary,
        tokenize: Tokenize,
        replies: ReplyTokenMemory,
        messages: MessageTokenCache | None = None,
    ) -> None:
        self._fmt = fmt
        self._vocab = vocab
        self._tokenize = tokenize
        self._replies = replies
        self._messages = messages if messages is not None else MessageTokenCache()
        # Seconds spent rendering the template and tokenizing, since `take_times` (traces).
        self._render_s = 0.0
        self._tokenize_s = 0.0

    def take_times(self) -> tuple[float, float]:
        """(template rendering, tokenizing) seconds of the builds since the last call."""
        times = (self._render_s, self._tokenize_s)
        self._render_s = self._tokenize_s = 0.0
        return times

    def build(self, messages: Sequence[ChatMessage]) -> list[int]:
        """Token ids of the prompt that asks the model for the next assistant turn."""
        return self._build(messages, add_generation_prompt=True, cut_at_mark=False)

    def next_turn_prefix(self, messages: Sequence[ChatMessage]) -> list[int]:
        """Ids up to where the next user message will start, after `messages` (which end
        with an assistant reply): the engine can evaluate them before the user types."""
        marked = [*messages, ChatMessage("user", _NEXT_TURN_MARK)]
        return self._build(marked, add_generation_prompt=False, cut_at_mark=True)

    def message_ids(self, text: str) -> list[int]:
        """Ids of `text` as a message's content is tokenized (control tokens not parsed),
        not kept in the message cache: for text still being typed (type_ahead.py)."""
        started = time.perf_counter()
        try:
            return self._tokenize(text, False)
        finally:
            self._tokenize_s += time.perf_counter() - started

    def _build(
        self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool, cut_at_mark: bool
    ) -> list[int]:
        t_render = time.perf_counter()
        text = render_prompt(
            self._fmt,
            [{"role": m.role, "content": m.content} for m in messages],
            bos_token=self._vocab.bos_text,
            eos_token=self._vocab.eos_text,
            add_generation_prompt=add_generation_prompt,
        )
        t_tokenize = time.perf_counter()
        self._render_s += t_tokenize - t_render
        try:
            return self._tokenize_rendered(messages, text, cut_at_mark)
        finally:
            self._tokenize_s += time.perf_counter() - t_tokenize

    def _tokenize_rendered(
        self, messages: Sequence[ChatMessage], text: str, cut_at_mark: bool
    ) -> list[int]:
        ids: list[int] = []
        if self._vocab.bos_id is not None and should_add_bos(
            self._fmt, text, self._vocab.bos_text, self._vocab.add_bos
        ):
            ids.append(self._vocab.bos_id)
        pos = 0
        for message in _in_rendered_order(messages, text):
            if not message.content:
                continue
            start = text.find(message.content, pos)
            if start < 0:  # the template rewrote this content: leave it inside the glue
                continue
            ids += self._glue(text[pos:start])
            if cut_at_mark and message.content == _NEXT_TURN_MARK:
                return ids
            known = self._replies.get(message.content) if message.role == "assistant" else None
            # Message text never parses control tokens: typing "<end_of_turn>" must not
            # end a turn.
            if known is None:
                ids += self._messages.ids(message.content, self._tokenize)
            else:
                ids += known
            pos = start + len(message.content)
        ids += self._glue(text[pos:])
        return ids

    def _glue(self, text: str) -> list[int]:
        return self._tokenize(text, True) if text else []


def _in_rendered_order(messages: Sequence[ChatMessage], text: str) -> list[ChatMessage]:
    """`messages` in the order their text appears in `text`. Templates write every turn in
    order, but some put the system prompt elsewhere than first (Mistral v0.3's writes it
    into the last user turn): looked for first, it would be found late and leave the turns
    before it to the template text, where special tokens are parsed."""
    if len(messages) < 2 or messages[0].role != "system" or not messages[0].content:
        return list(messages)
    system, rest = messages[0], list(messages[1:])
    at = text.find(system.content)
    if at < 0:
        return list(messages)
    pos = 0
    for index, message in enumerate(rest):
        start = text.find(message.content, pos) if message.content else -1
        if start < 0:
            continue
        if start >= at:  # the system text comes before this message's
            return [*rest[:index], system, *rest[index:]]
        pos = start + len(message.content)
    return [*rest, system]
