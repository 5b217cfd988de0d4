"""PromptBuilder: how a rendered chat prompt is cut into template text (special tokens
parsed) and message text (never parsed), whatever order the template writes them in."""

from __future__ import annotations

from inference.process.prompt_tokens import (
    MessageTokenCache,
    PromptBuilder,
    ReplyTokenMemory,
    TokenVocabulary,
)
from inference.protocol import ChatMessage
from inference.templates import ModelTokens, select_format
from tests.support.model_templates import MISTRAL_V03_TOOLS_TEMPLATE, PHI3_MINI_TEMPLATE

MISTRAL = ModelTokens(bos="<s>", eos="</s>", end_of_turn=("</s>",))
VOCAB = TokenVocabulary(bos_id=1, bos_text="<s>", eos_text="</s>", add_bos=True)


class RecordingTokenizer:
    """Stands in for llama.cpp's tokenizer: one id per call, and a record of which texts
    were tokenized with special tokens parsed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, text: str, special: bool) -> list[int]:
        self.calls.append((text, special))
        return [1000 + len(self.calls)]

    def parsed_as_template(self) -> str:
        return "".join(text for text, special in self.calls if special)


CHAT = [
    ChatMessage("system", "Answer in French."),
    ChatMessage("user", "What does [INST] mean?"),
    ChatMessage("assistant", "It opens a turn."),
    ChatMessage("user", "And </s>?"),
]


def test_message_text_is_never_parsed_when_the_template_moves_the_system_prompt() -> None:
    """Mistral v0.3's current template writes the system prompt into the last user turn. The
    builder looked for the messages in conversation order, found the system text at the end
    and left the earlier turns to the template's text, where a user's "[INST]" became the
    control token."""
    fmt = select_format("llama", MISTRAL_V03_TOOLS_TEMPLATE, MISTRAL)
    tokenize = RecordingTokenizer()
    PromptBuilder(fmt, VOCAB, tokenize, ReplyTokenMemory()).build(CHAT)
    assert tokenize.parsed_as_template() == "<s>[INST] [/INST] </s>[INST] \n\n[/INST]"
    unparsed = [text for text, special in tokenize.calls if not special]
    assert unparsed == [m.content for m in (CHAT[1], CHAT[2], CHAT[0], CHAT[3])]


def test_a_sampled_reply_keeps_its_ids_when_the_template_moves_the_system_prompt() -> None:
    replies = ReplyTokenMemory()
    replies.remember("It opens a turn.", [7, 8, 9])
    fmt = select_format("llama", MISTRAL_V03_TOOLS_TEMPLATE, MISTRAL)
    ids = PromptBuilder(fmt, VOCAB, RecordingTokenizer(), replies).build(CHAT)
    assert ids[:6] == [1001, 1002, 1003, 7, 8, 9]  # "<s>[INST] ", the question, "[/INST] "


def test_folded_system_prompt_is_message_text() -> None:
    fmt = select_format("phi3", PHI3_MINI_TEMPLATE, MISTRAL)
    assert fmt.fold_system
    tokenize = RecordingTokenizer()
    PromptBuilder(fmt, VOCAB, tokenize, ReplyTokenMemory()).build(CHAT)
    assert "Answer in French." not in tokenize.parsed_as_template()
    assert "What does [INST] mean?" not in tokenize.parsed_as_template()


def test_a_message_is_tokenized_once_across_turns_and_gives_the_same_ids() -> None:
    """The history is rendered again every turn; only text not seen before is tokenized
    again (the template's glue is short and always is)."""
    calls: list[tuple[str, bool]] = []

    def tokenize(text: str, special: bool) -> list[int]:
        calls.append((text, special))
        return [ord(c) for c in text]

    fmt = select_format("phi3", PHI3_MINI_TEMPLATE, MISTRAL)
    builder = PromptBuilder(fmt, VOCAB, tokenize, ReplyTokenMemory())
    first = builder.build(CHAT[:2])
    assert builder.build(CHAT[:2]) == first
    whole = builder.build(CHAT)
    uncached = PromptBuilder(fmt, VOCAB, tokenize, ReplyTokenMemory()).build(CHAT)
    assert whole == uncached
    # The first builder read each message once; the uncached one once more.
    unparsed = [text for text, special in calls if not special]
    assert unparsed == [m.content for m in CHAT] + [m.content for m in CHAT]


def test_the_message_cache_drops_the_least_recently_used_past_its_capacity() -> None:
    cache = MessageTokenCache(capacity=5)
    calls: list[str] = []

    def tokenize(text: str, special: bool) -> list[int]:
        assert not special
        calls.append(text)
        return [ord(c) for c in text]

    assert list(cache.ids("ab", tokenize)) == [97, 98]
    cache.ids("cd", tokenize)
    cache.ids("ab", tokenize)  # now the most recently used
    cache.ids("ef", tokenize)  # 6 tokens held: "cd" goes
    assert cache.tokens == 4
    cache.ids("ab", tokenize)
    cache.ids("cd", tokenize)
    assert calls == ["ab", "cd", "ef", "cd"]
    cache.ids("longer than five", tokenize)  # never kept: it alone exceeds the capacity
    assert cache.tokens <= 5
