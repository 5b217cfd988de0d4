"""Documents the tests write themselves, in every supported format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def make_pdf(path: Path, pages: Sequence[str], title: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def make_image_only_pdf(path: Path) -> Path:
    """A "scanned" PDF: one page with a drawing and no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.multi_cell(0, 6, "Top secret text.")
    pdf.output(str(path))
    return path


def make_docx(path: Path, blocks: Sequence[tuple[str, str]], title: str | None = None) -> Path:
    """blocks: (style, text) with style "Heading N", "Title" or "Normal"."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for style, text in blocks:
        document.add_paragraph(text, style=style)
    document.save(str(path))
    return path


def make_epub(path: Path, chapters: Sequence[tuple[str, str]], title: str = "A Book") -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("hearth-test")
    book.set_title(title)
    book.set_language("en")
    items = []
    for number, (heading, body) in enumerate(chapters, 1):
        chapter = epub.EpubHtml(title=heading, file_name=f"ch{number}.xhtml", lang="en")
        paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        chapter.content = f"<html><body><h1>{heading}</h1>{paragraphs}</body></html>"
        book.add_item(chapter)
        items.append(chapter)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    epub.write_epub(str(path), book)
    return path


def make_odt(path: Path, blocks: Sequence[tuple[int, str]]) -> Path:
    """blocks: (outline level, text); level 0 is a body paragraph."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    for level, text in blocks:
        if level:
            document.text.addElement(H(outlinelevel=level, text=text))
        else:
            document.text.addElement(P(text=text))
    document.save(str(path))
    return path


def page_text(page: int, sentences: int = 6) -> str:
    """Distinct, recognisable text for a page."""
    return " ".join(
        f"Page {page} sentence {n} tells about the topic of page {page}." for n in range(sentences)
    )


def make_large_text(path: Path, megabytes: int) -> tuple[Path, int]:
    """A plain-text file of about `megabytes` MB (paragraphs, some with Windows line ends)
    and its number of words, written a block at a time."""
    words = 0
    paragraphs = []
    for n in range(200):
        sentence = " ".join(f"word{n}x{k} über" for k in range(40))
        paragraphs.append(f"Paragraph {n} says: {sentence}.")
        words += 3 + 80  # "Paragraph N says:" and 40 pairs
    block = "\n\n".join(paragraphs[:100]) + "\r\n\r\n" + "\n\n".join(paragraphs[100:]) + "\n\n"
    data = block.encode("utf-8")
    repeats = max(1, megabytes * (1 << 20) // len(data))
    with path.open("wb") as handle:
        for _ in range(repeats):
            handle.write(data)
    return path, words * repeats


def make_scanned_pdf(path: Path, pages: Sequence[str]) -> Path:
    """A PDF of page images with `pages` drawn as large text, and no text layer: what a
    scanner makes."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=48)
    pdf = FPDF()
    for text in pages:
        image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
        draw = ImageDraw.Draw(image)
        for line_number, line in enumerate(text.splitlines()):
            draw.text((120, 150 + 90 * line_number), line, fill=0, font=font)
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return path
