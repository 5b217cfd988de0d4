"""Split a markdown stream into finished blocks and an unfinished tail, incrementally.

Pure Python, no Qt; the GUI thread feeds it the deltas of the reply being streamed.

A block is finished at a blank line outside a code fence, once the next line has started
with a non-blank character (an indented next line may still belong to the block: a list
item's second paragraph, or an indented code block), unless that line is an item of a list
the block holds (a loose list: "1. a\n\n1. b" is one list numbered 1., 2.; cut in two it
showed 1., 1. until the final render). Not cutting is always safe: a block rendered whole
looks as it does in the whole reply; a wrong cut is what makes the reply jump.

Every character is examined once (a line that may continue a list is looked at again until
it is whole), so the cost of :meth:`BlockSplitter.feed` grows with the delta, never with the
reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A list item's marker after up to 3 spaces: a bullet, or a number and its delimiter.
_LIST_ITEM = re.compile(r" {0,3}(?:([-+*])|\d{1,9}([.)]))(?:[ \t]|$)")
_LIST_START = "-+*0123456789"


@dataclass
class BlockSplitter:
    """Accumulates streamed text; hands out markdown blocks as soon as they are complete."""

    pending: str = ""  # text of the unfinished block (the tail shown as plain text)
    _scan: int = 0  # pending[:_scan] has been examined: always at a line start
    _fence: str = ""  # the opening fence ("```", "~~~~", ...) while inside a code fence
    _after_blank: bool = False  # the last complete line was blank, outside a fence
    _content_seen: bool = False  # pending holds a non-blank line already
    _list_kinds: set[str] = field(default_factory=set)  # kinds of list items in pending

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the blocks it completed (usually none or one)."""
        self.pending += text
        finished: list[str] = []
        while True:
            end = self.pending.find("\n", self._scan)
            start = self._scan
            if self._starts_new_block(start):
                finished.append(self.pending[:start])
                self.pending = self.pending[start:]
                self._scan = 0
                self._after_blank = False
                self._content_seen = False
                self._list_kinds = set()
                continue
            if end < 0:
                return finished
            self._examine_line(self.pending[start:end])
            self._scan = end + 1

    def _starts_new_block(self, start: int) -> bool:
        # Decided on the first character of the line after the blank line(s), or for what
        # may be another item of the block's list, once that line is whole.
        if not (
            self._after_blank
            and not self._fence
            and start < len(self.pending)
            and self.pending[start] not in " \t\r\n"  # a CRLF blank line starts with a CR
        ):
            return False
        if self._list_kinds and self.pending[start] in _LIST_START:
            end = self.pending.find("\n", start)
            if end < 0:
                return False  # asked again when more text comes
            return _list_kind(self.pending[start:end]) not in self._list_kinds
        return True

    def _examine_line(self, line: str) -> None:
        stripped = line.strip()
        if self._fence:
            # A closing fence: same character, at least as long, nothing after it.
            if stripped.startswith(self._fence) and not stripped.lstrip(self._fence[0]):
                self._fence = ""
            return
        if not stripped:
            self._after_blank = self._content_seen
            return
        self._after_blank = False
        self._content_seen = True
        indent = len(line) - len(line.lstrip(" "))
        if indent <= 3:
            opener = _fence_opener(stripped)
            if opener:
                self._fence = opener
            kind = _list_kind(line)
            if kind:
                self._list_kinds.add(kind)

    def reset(self) -> None:
        """Forget everything (a new reply begins)."""
        self.pending = ""
        self._scan = 0
        self._fence = ""
        self._after_blank = False
        self._content_seen = False
        self._list_kinds = set()


def _fence_opener(stripped: str) -> str:
    for char in ("`", "~"):
        if stripped.startswith(char * 3):
            run = len(stripped) - len(stripped.lstrip(char))
            # A backtick fence's info string may not contain backticks (CommonMark).
            if char == "`" and "`" in stripped[run:]:
                return ""
            return char * run
    return ""


def _list_kind(line: str) -> str:
    """ "-", "+", "*" for a bullet item, "1." or "1)" for a numbered one, "" otherwise: items
    of one kind form one list (CommonMark starts a new list when the kind changes)."""
    match = _LIST_ITEM.match(line)
    if match is None:
        return ""
    return match.group(1) or "1" + match.group(2)
