"""What extraction hands to the splitter: a document as an ordered list of sections."""

from __future__ import annotations

from dataclasses import dataclass, field


class DocumentError(Exception):
    """A file Hearth cannot read as a document; the message is meant for the user as is."""


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

    @property
    def words(self) -> int:
        return sum(len(s.text.split()) for s in self.sections)


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
