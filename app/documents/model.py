"""What extraction hands to the splitter: a document as an ordered list of sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TypedDict

WORD_COUNT_BLOCK_CHARS = 1 << 20


class DocumentError(Exception):
    """A file Hearth cannot read as a document; the message is meant for the user as is."""


class LibraryFields(TypedDict):
    content_hash: str
    path: str
    title: str
    type: str
    pages: int | None
    words: int


@dataclass(frozen=True)
class Section:
    """A run of text with one location: a PDF page, or the text under one heading.

    `heading_path` is the chain of headings above the text ("Intro", "Background"), empty
    before the first heading. The heading line itself is part of `text`.
    """

    text: str
    page: int | None = None
    heading_path: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        """A short human label: "p. 3" or "Intro › Background"."""
        if self.page is not None:
            return f"p. {self.page}"
        return " › ".join(self.heading_path)


@dataclass(frozen=True)
class Document:
    title: str
    type: str  # "pdf", "docx", "html", "markdown", "text", "epub", "odt"
    source_path: str
    content_hash: str  # sha256 of the file bytes: the key for stored summaries
    sections: tuple[Section, ...]
    pages: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """The whole text as the splitter sees it (sections joined by a blank line)."""
        return "\n\n".join(s.text for s in self.sections)

    @cached_property
    def words(self) -> int:
        return sum(count_words(s.text) for s in self.sections)

    def library_fields(self) -> LibraryFields:
        """What the library stores about this document (DocumentRepository.upsert)."""
        return {
            "content_hash": self.content_hash,
            "path": self.source_path,
            "title": self.title,
            "type": self.type,
            "pages": self.pages,
            "words": self.words,
        }


def count_words(text: str, block: int = WORD_COUNT_BLOCK_CHARS) -> int:
    """Whitespace-separated words, as len(text.split()) counts them, a block at a time: the
    list of every word of a 200 MB file would take gigabytes."""
    words = 0
    previous_ends_in_word = False
    for start in range(0, len(text), block):
        piece = text[start : start + block]
        words += len(piece.split())
        if previous_ends_in_word and not piece[0].isspace():
            words -= 1  # one word across the cut was counted in both blocks
        previous_ends_in_word = not piece[-1].isspace()
    return words


@dataclass(frozen=True, order=True)
class SourceRef:
    """Where a chunk's text came from: a page (PDF) or a heading path (everything else)."""

    page: int | None
    heading_path: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.page is not None:
            return f"p. {self.page}"
        return " › ".join(self.heading_path) or "(start)"
