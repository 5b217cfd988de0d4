"""HTML through trafilatura's main-content extractor (drops menus, footers, ads), as Markdown so
headings survive; the Markdown reader then cuts it into sections."""

from __future__ import annotations

import lxml.html
import trafilatura

from app.documents.formats.markdown import markdown_sections
from app.documents.model import Section


def html_to_markdown(html: str) -> str:
    """Main content as Markdown; falls back to all visible text for pages trafilatura rejects
    (very short pages, EPUB chapters made of a heading and two lines)."""
    extracted = trafilatura.extract(
        html, output_format="markdown", include_comments=False, favor_recall=True
    )
    if extracted and extracted.strip():
        return extracted
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return "\n\n".join(
        " ".join(block.text_content().split())
        for block in root.iter("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td")
        if block.text_content().strip()
    )


def html_title(html: str) -> str | None:
    metadata = trafilatura.extract_metadata(html)
    return metadata.title if metadata is not None and metadata.title else None


def read_html(html: str) -> tuple[list[Section], str | None]:
    sections, first_heading = markdown_sections(html_to_markdown(html))
    return sections, html_title(html) or first_heading
