"""Where sentences end: the one splitter behind document chunking and translation segments.

A sentence ends at a run of . ! ? … (then any closing quotes or brackets) followed by
whitespace, or at a CJK full stop 。！？ (then its closers), which needs no space after it.
It does not end where the next word starts in lower case ("e.g. this", an ellipsis in
mid-sentence), after a known abbreviation ("Dr. Smith") or after a single letter with a
full stop (an initial, "J. R. R. Tolkien"), nor at the very end of the text. A decimal
point ("3.14") has no whitespace after it, so it never ends a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# The whitespace group is where one sentence stops and the gap before the next begins.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(\s+)|[。！？]+[」』”’）)]*(\s*)")
_OPENERS = "([\"'"
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "vs",
        "etc",
        "eg",
        "ie",
        "e.g",
        "i.e",
        "no",
        "nr",
        "fig",
        "cf",
        "approx",
        "ca",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
    }
)


def sentence_breaks(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(end of a sentence, start of the next) for each break inside text[start:end]; what
    lies between the two is the whitespace that separates them (empty after a CJK stop)."""
    stop = len(text) if end is None else end
    for match in _SENTENCE_END.finditer(text, start, stop):
        gap = 1 if match.group(1) is not None else 2
        if match.end() < stop and _is_break(text, start, match.start(), match.end()):
            yield match.start(gap), match.end()


def _is_break(text: str, start: int, punct_start: int, next_start: int) -> bool:
    if text[next_start].islower():
        return False
    word_start = punct_start  # walked back by hand: a slice up to here would copy the text
    while word_start > start and not text[word_start - 1].isspace():
        word_start -= 1
    last = text[word_start:punct_start].lower().strip(_OPENERS)
    if last in _ABBREVIATIONS:
        return False
    return not (len(last) == 1 and last.isalpha() and text[punct_start] == ".")
