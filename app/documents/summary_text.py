"""A stored summary as the page shows it: Markdown with citation links, Markdown with sources
in parentheses (export, chat), and the passage behind one citation link.

Qt-free: the link syntax is the page's (ui/documents/rows.py `cite_link`), handed in."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.documents.citations import MAX_SOURCES, Citation, is_point, strip_tags
from app.documents.model import Document, SourceRef

PASSAGE_LIMIT_CHARS = 20_000
MAX_LINKS_PER_POINT = MAX_SOURCES
# After a point that no passage of the document supports (see app/documents/citations.py).
NO_SOURCE = "(no source found)"


def refs_label(refs: Sequence[SourceRef]) -> str:
    """Where a chunk lies, in a few words: "p. 3–5", "p. 3", or its first heading (+ "…")."""
    pages = [r.page for r in refs if r.page is not None]
    if pages:
        low, high = min(pages), max(pages)
        return f"p. {low}" if low == high else f"p. {low}–{high}"
    if not refs:
        return ""
    return refs[0].label + (" …" if len(refs) > 1 else "")


def chunk_heading(index: int, total: int, refs: Sequence[SourceRef]) -> str:
    """The heading of a chunk's summary while a job runs: "Part 2 of 7 · p. 4–6"."""
    where = refs_label(refs)
    return f"Part {index + 1} of {total}" + (f" · {where}" if where else "")


def summary_lines(text: str, citations: Sequence[Citation]) -> list[tuple[str, Citation | None]]:
    """Each line of a final summary without its [cN] tags, paired with its Citation the way
    `cite` numbered them (the lines that state something: see `is_point`)."""
    lines: list[tuple[str, Citation | None]] = []
    points = iter(citations)
    for line in text.splitlines():
        if not is_point(line):
            lines.append((strip_tags(line), None))
        else:
            lines.append((strip_tags(line), next(points, None)))
    return lines


def linked_markdown(
    text: str, citations: Sequence[Citation], link: Callable[[str, int], str]
) -> tuple[str, list[tuple[Citation, SourceRef]]]:
    """The summary as Markdown with one citation link per source ("p. 3", a heading) after
    each point, and what each link number points to; `link(label, number)` writes a link."""
    targets: list[tuple[Citation, SourceRef]] = []
    out: list[str] = []
    for line, citation in summary_lines(text, citations):
        if citation is None:
            out.append(line)
            continue
        if not citation.refs:
            out.append(f"{line.rstrip()} *{NO_SOURCE}*")
            continue
        links = []
        for ref in citation.refs[:MAX_LINKS_PER_POINT]:
            links.append(link(ref.label, len(targets)))
            targets.append((citation, ref))
        more = len(citation.refs) - MAX_LINKS_PER_POINT
        if more > 0:
            links.append(f"(+{more} more)")
        out.append(f"{line.rstrip()} {' '.join(links)}")
    return "\n".join(out), targets


def plain_markdown(text: str, citations: Sequence[Citation]) -> str:
    """The summary as Markdown with its sources in parentheses: for export and chat."""
    out: list[str] = []
    for line, citation in summary_lines(text, citations):
        if citation is None:
            out.append(line)
            continue
        if not citation.refs:
            out.append(f"{line.rstrip()} {NO_SOURCE}")
            continue
        labels = [ref.label for ref in citation.refs[:MAX_LINKS_PER_POINT]]
        if len(citation.refs) > MAX_LINKS_PER_POINT:
            labels.append("…")
        out.append(f"{line.rstrip()} ({', '.join(labels)})")
    return "\n".join(out)


def _matches(section_ref: SourceRef, ref: SourceRef) -> bool:
    if ref.page is not None:
        return section_ref.page == ref.page
    return section_ref.page is None and section_ref.heading_path == ref.heading_path


def passage_text(
    document: Document,
    citation: Citation,
    ref: SourceRef,
    spans: Sequence[tuple[int, int]],
) -> str:
    """The text behind one citation link: the part of the page (or heading's section) that
    the cited chunks cover; the whole page/section when the chunk offsets are unknown."""
    text = document.text
    sections: list[tuple[int, int]] = []
    offset = 0
    for section in document.sections:
        if _matches(SourceRef(section.page, section.heading_path), ref):
            sections.append((offset, offset + len(section.text)))
        offset += len(section.text) + 2  # Document.text joins sections with a blank line
    pieces: list[str] = []
    usable = bool(spans) and all(0 <= i < len(spans) for i in citation.chunk_ids)
    for low, high in sections:
        if usable and spans[-1][1] <= len(text):
            for chunk in citation.chunk_ids:
                start, end = max(low, spans[chunk][0]), min(high, spans[chunk][1])
                if start < end:
                    pieces.append(text[start:end].strip())
        else:
            pieces.append(text[low:high].strip())
    if not pieces:  # offsets from another extraction of the file: show the whole sections
        pieces = [text[low:high].strip() for low, high in sections]
    passage = "\n\n…\n\n".join(dict.fromkeys(p for p in pieces if p))
    if len(passage) > PASSAGE_LIMIT_CHARS:
        passage = passage[:PASSAGE_LIMIT_CHARS].rstrip() + " …"
    return passage
