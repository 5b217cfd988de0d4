"""What the translator does with the model's replies: streams them with the protected spans'
markers swapped back, checks them (the source sent back unchanged, emphasis or line breaks the
model changed) and words the warning for passages left untranslated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from app.translation.protect import MARKER
from app.util.instruction_echo import MIN_WORDS_LEFT

OnDelta = Callable[[str], None]


def not_translated_warning(echoed: int, untranslated: int, sent: int) -> str:
    parts = []
    if echoed:
        parts.append(
            f"repeated its instructions instead of translating {echoed} of {sent} passages"
        )
    if untranslated:
        parts.append(f"returned {untranslated} of {sent} passages untranslated")
    if not parts:
        return ""
    return (
        f"The model {' and '.join(parts)} (they are left as in the source). A chat "
        "(instruction-tuned) model works better."
    )


_EMPHASIS = ("**", "__", "~~")


def markup_problems(source: str, translated: str) -> list[str]:
    """Notes when the model changed what the layout depends on inside a segment: the
    Markdown emphasis marks (**bold**, *italic*, ~~struck~~) or the number of line breaks.
    Both texts have markers in place of protected spans, so code and URLs do not count."""
    snippet = " ".join(MARKER.sub("…", source).split())
    snippet = snippet if len(snippet) <= 40 else snippet[:39] + "…"
    problems: list[str] = []
    if _emphasis(source) != _emphasis(translated):
        problems.append(f'the bold/italic marks of "{snippet}" were changed by the model')
    if source.count("\n") != translated.count("\n"):
        problems.append(f'the line breaks of "{snippet}" were changed by the model')
    return problems


def _emphasis(text: str) -> tuple[int, ...]:
    counts = [text.count(mark) for mark in _EMPHASIS]
    singles = text
    for mark in _EMPHASIS:
        singles = singles.replace(mark, "")
    return (*counts, singles.count("*"))


class MarkerStream:
    """Streams deltas with markers already swapped back, holding an unfinished ⟦…."""

    def __init__(self, spans: Sequence[str], sink: OnDelta) -> None:
        self.spans = spans
        self.sink = sink
        self.pending = ""

    def feed(self, delta: str) -> None:
        text = self.pending + delta
        cut = text.rfind("⟦")
        if cut != -1 and "⟧" not in text[cut:]:
            text, self.pending = text[:cut], text[cut:]
        else:
            self.pending = ""
        if text:
            self.sink(MARKER.sub(self._swap, text))

    def _swap(self, match: re.Match[str]) -> str:
        number = int(match.group(1))
        return self.spans[number - 1] if 1 <= number <= len(self.spans) else ""


def same_words(translated: str, source: str) -> bool:
    """The answer is the source again (a base model's usual failure), for a passage long
    enough that a translation would differ (names and numbers alone stay as they are)."""
    words = re.findall(r"\w+", source)
    if len(words) < MIN_WORDS_LEFT + 1:
        return False
    return re.findall(r"\w+", translated) == words
