"""The text the search index holds for a message (see storage.search).

CJK text has no spaces between words, so FTS5's unicode61 tokenizer would see a whole
sentence as one token. A zero-width space (a separator to unicode61: category Cf) around
each CJK character makes each one a token; a CJK query then becomes a phrase of adjacent
characters. SQLite triggers call this as a registered function on every connection.
"""

from __future__ import annotations

import re

INDEX_FUNCTION = "hearth_index_text"
ZWSP = "\u200b"
# Han, Hiragana, Katakana, Hangul and their compatibility/extension blocks.
_CJK = re.compile(
    "([\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002ffff])"
)


def index_text(content: str | None) -> str:
    if not content:
        return ""
    return _CJK.sub(ZWSP + r"\1" + ZWSP, content)


_SPACED_CJK = re.compile(ZWSP + _CJK.pattern + ZWSP)


def stored_text(indexed: str) -> str:
    """The message text that index_text(text) came from (recovery reads it back from the
    index when the message row itself is lost)."""
    return _SPACED_CJK.sub(r"\1", indexed)
