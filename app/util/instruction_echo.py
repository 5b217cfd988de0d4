"""Finding Hearth's own instructions in what a model wrote, and which prompts a model follows.

A base model (not instruction-tuned, such as the built-in Gemma 3 270M) given a chat prompt
often continues it by repeating the instructions ("You summarize documents faithfully: …")
or the prompt's markup (<text>). Such output must never be presented as a summary or a
translation. `find_echo` marks every run of ECHO_WORDS or more consecutive words that also
occur, in that order, in one of the instruction texts (the prompt without the user's
document), plus the prompt's markup; what is left is the model's own text.

The echo share of an output is the number of its non-space characters inside echoed runs
divided by all its non-space characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inference.protocol import ModelInfo

# Four words in a row: short enough to catch a paraphrased echo ("always write in English"),
# long enough that ordinary prose rarely matches an instruction by chance.
ECHO_WORDS = 4
# An output whose share of echo is at least this is a repetition of the instructions, not a
# result, whatever is left of it.
ECHO_SHARE_LIMIT = 0.5
# Fewer words than this left after removing the echo: nothing usable is left.
MIN_WORDS_LEFT = 3

_WORD = re.compile(r"\w+")
_MARKUP = re.compile(
    r"</?\s*text\s*>|^[ \t]*Source[ \t]*(?:\[c\d+(?:[-–]c\d+)?\])+[ \t]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# The chat formats that come from the model itself: the model was tuned to follow them.
_OWN_TEMPLATES = ("model-template", "custom-template")


@dataclass(frozen=True)
class EchoCheck:
    text: str  # the output with the echoed runs taken out
    echoed_chars: int
    total_chars: int

    @property
    def share(self) -> float:
        return self.echoed_chars / self.total_chars if self.total_chars else 0.0

    @property
    def found(self) -> bool:
        return self.echoed_chars > 0

    @property
    def has_text(self) -> bool:
        """Enough of the model's own words are left to be worth showing."""
        return len(_WORD.findall(self.text)) >= MIN_WORDS_LEFT

    @property
    def is_echo(self) -> bool:
        """Mostly the instructions, or nothing of the model's own is left: for a text that
        must be whole (a translation), the answer as such is unusable."""
        return self.found and (self.share >= ECHO_SHARE_LIMIT or not self.has_text)


def _grams(instructions: Sequence[str]) -> set[tuple[str, ...]]:
    grams: set[tuple[str, ...]] = set()
    for instruction in instructions:
        words = [w.casefold() for w in _WORD.findall(instruction)]
        grams.update(tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1))
    return grams


def _non_space(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def find_echo(output: str, instructions: Sequence[str]) -> EchoCheck:
    """The parts of `output` that repeat `instructions` (texts of the prompt that are
    Hearth's, never the user's document or glossary), and `output` without them."""
    grams = _grams(instructions)
    words = list(_WORD.finditer(output))
    keys = [m.group().casefold() for m in words]
    echoed = [False] * len(words)
    for i in range(len(words) - ECHO_WORDS + 1):
        if tuple(keys[i : i + ECHO_WORDS]) in grams:
            echoed[i : i + ECHO_WORDS] = [True] * ECHO_WORDS
    spans: list[tuple[int, int]] = [m.span() for m in _MARKUP.finditer(output)]
    run_start: int | None = None
    for i, word in enumerate(words):
        if echoed[i] and run_start is None:
            run_start = word.start()
        if run_start is not None and (i + 1 == len(words) or not echoed[i + 1]):
            end = word.end()
            # The run's closing punctuation ("English." / "faithfully:") goes with it.
            while end < len(output) and not output[end].isspace() and not output[end].isalnum():
                end += 1
            spans.append((run_start, end))
            run_start = None
    if not spans:
        total = _non_space(output)
        return EchoCheck(output, 0, total)
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    kept: list[str] = []
    cursor = 0
    echoed_chars = 0
    for start, end in merged:
        kept.append(output[cursor:start])
        echoed_chars += _non_space(output[start:end])
        cursor = end
    kept.append(output[cursor:])
    return EchoCheck(_tidy("".join(kept)), echoed_chars, _non_space(output))


def _tidy(text: str) -> str:
    """Lines left empty or bare ("- ", ":") by the removal go; spaces are closed up."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"[ \t]{2,}", " ", line).rstrip()
        if _WORD.search(line) or not line.strip():
            lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def follows_chat_prompts(info: ModelInfo | None) -> bool:
    """Whether to send a model chat prompts (instructions in turns) or completion prompts (a
    text it continues). A model whose GGUF carries a chat template was tuned to follow
    instructions in that format; one without (the built-in Gemma 3 270M, base models in
    general) runs on a built-in format it never saw and continues text instead. Unknown
    (no model info): chat."""
    return info is None or info.chat_format in _OWN_TEMPLATES
