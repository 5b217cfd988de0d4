"""Split a markdown stream into finished blocks and an unfinished tail, incrementally.

Pure Python, no Qt; the GUI thread feeds it the deltas of the reply being streamed.

A block is finished at a blank line outside a code fence, once the next line has started
with a non-blank character (an indented next line may still belong to the block: a list
item's second paragraph, or an indented code block). Every character is examined once, so
the cost of :meth:`BlockSplitter.feed` grows with the delta, never with the reply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BlockSplitter:
    """Accumulates streamed text; hands out markdown blocks as soon as they are complete."""

    pending: str = ""  # text of the unfinished block (the tail shown as plain text)
    _scan: int = 0  # pending[:_scan] has been examined: always at a line start
    _fence: str = ""  # the opening fence ("```", "~~~~", ...) while inside a code fence
    _after_blank: bool = False  # the last complete line was blank, outside a fence
    _content_seen: bool = False  # pending holds a non-blank line already

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
                continue
            if end < 0:
                return finished
            self._examine_line(self.pending[start:end])
            self._scan = end + 1

    def _starts_new_block(self, start: int) -> bool:
        # Decided on the first character of the line after the blank line(s).
        return (
            self._after_blank
            and not self._fence
            and start < len(self.pending)
            and self.pending[start] not in " \t\n"
        )

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

    def reset(self) -> None:
        """Forget everything (a new reply begins)."""
        self.pending = ""
        self._scan = 0
        self._fence = ""
        self._after_blank = False
        self._content_seen = False

    def take_pending(self) -> str:
        """Return and clear the unfinished tail (the stream ended)."""
        tail = self.pending
        self.reset()
        return tail


def _fence_opener(stripped: str) -> str:
    for char in ("`", "~"):
        if stripped.startswith(char * 3):
            run = len(stripped) - len(stripped.lstrip(char))
            # A backtick fence's info string may not contain backticks (CommonMark).
            if char == "`" and "`" in stripped[run:]:
                return ""
            return char * run
    return ""
