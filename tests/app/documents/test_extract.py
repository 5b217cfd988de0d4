from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from app.documents.extract import DocumentError, extract_document, ocr_document
from app.documents.formats.pdf import NoTextLayer
from tests.support.document_builders import (
    make_docx,
    make_encrypted_pdf,
    make_epub,
    make_image_only_pdf,
    make_odt,
    make_pdf,
    make_scanned_pdf,
    page_text,
)


def test_pdf_pages_title_and_hash(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", [page_text(1), page_text(2), page_text(3)], "Report")
    document = extract_document(path)
    assert document.type == "pdf"
    assert document.title == "Report"
    assert document.pages == 3
    assert [s.page for s in document.sections] == [1, 2, 3]
    assert "Page 2 sentence 0" in document.sections[1].text
    assert document.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert document.words > 50


def test_a_2000_page_pdf_is_read_page_by_page_and_can_be_stopped(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", [f"Page {n} is about item {n}." for n in range(1, 2001)])
    document = extract_document(path)
    assert document.pages == 2000 and len(document.sections) == 2000
    assert [s.page for s in document.sections] == list(range(1, 2001))
    assert document.sections[1499].text == "Page 1500 is about item 1500."

    asked: list[None] = []

    def stop_after_100_pages() -> bool:
        asked.append(None)
        return len(asked) > 100

    with pytest.raises(DocumentError, match="was stopped"):
        extract_document(path, should_stop=stop_after_100_pages)
    assert len(asked) == 102  # checked before each page, and once more at the end


def test_pdf_encrypted_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="encrypted"):
        extract_document(make_encrypted_pdf(tmp_path / "locked.pdf"))


def test_scanned_pdf_without_tesseract_says_how_to_get_ocr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_image_only_pdf(tmp_path / "scan.pdf")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(NoTextLayer, match="no text layer") as without:
        extract_document(path)
    message = str(without.value)
    assert "probably scanned" in message and "Run OCR" not in message
    assert "apt-get install tesseract-ocr" in message and "brew install tesseract" in message
    with pytest.raises(DocumentError, match="OCR needs Tesseract"):
        ocr_document(path)


needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract is not installed"
)


@needs_tesseract
def test_scanned_pdf_is_read_by_ocr_page_by_page(tmp_path: Path) -> None:
    path = make_scanned_pdf(
        tmp_path / "scan.pdf",
        ["The village well was dug in 1852.", "Repairs came in 1901 after a drought."],
    )
    with pytest.raises(NoTextLayer, match="Run OCR"):
        extract_document(path)
    pages: list[tuple[int, int]] = []
    document = ocr_document(path, on_page=lambda done, total: pages.append((done, total)))
    assert pages == [(1, 2), (2, 2)]
    assert document.pages == 2 and [s.page for s in document.sections] == [1, 2]
    assert "village well" in document.sections[0].text and "1852" in document.sections[0].text
    assert "drought" in document.sections[1].text
    assert document.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


@needs_tesseract
def test_ocr_stops_when_asked(tmp_path: Path) -> None:
    path = make_scanned_pdf(tmp_path / "scan.pdf", ["One page.", "Two pages.", "Three."])
    pages: list[int] = []
    with pytest.raises(DocumentError, match="cancelled"):
        ocr_document(path, should_stop=lambda: bool(pages), on_page=lambda d, t: pages.append(d))
    assert pages == [1]


def test_docx_headings_from_styles(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "notes.docx",
        [
            ("Heading 1", "Intro"),
            ("Normal", "Opening words."),
            ("Heading 2", "Background"),
            ("Normal", "Some history."),
            ("Heading 1", "Results"),
            ("Normal", "It worked."),
        ],
    )
    document = extract_document(path)
    assert document.type == "docx"
    assert [s.heading_path for s in document.sections] == [
        ("Intro",),
        ("Intro", "Background"),
        ("Results",),
    ]
    assert document.sections[1].text == "Background\n\nSome history."
    assert document.title == "Intro"


def test_html_main_content_without_navigation(tmp_path: Path) -> None:
    body = " ".join(["This article explains how kettles boil water efficiently."] * 5)
    html = (
        "<html><head><title>Kettles</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/shop'>Shop now</a></nav>"
        f"<article><h1>Kettles</h1><p>{body}</p><h2>Safety</h2><p>{body} Unplug it.</p>"
        "</article><footer>Copyright footer text</footer></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    document = extract_document(path)
    assert document.title == "Kettles"
    assert "Shop now" not in document.text
    assert "Copyright footer" not in document.text
    assert ("Kettles", "Safety") in [s.heading_path for s in document.sections]


def test_markdown_sections_ignore_hashes_in_code(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(
        "# Title\n\nIntro.\n\n## Part A\n\n```\n# not a heading\n```\n\n## Part B\n\nEnd.\n",
        encoding="utf-8",
    )
    document = extract_document(path)
    assert [s.heading_path for s in document.sections] == [
        ("Title",),
        ("Title", "Part A"),
        ("Title", "Part B"),
    ]
    assert "# not a heading" in document.sections[1].text


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8", "Grüße aus Köln — naïve café."),
        ("utf-16", "Grüße aus Köln — naïve café."),
        ("cp1252", "Grüße aus Köln, naïve café, “quoted” and more ordinary words here."),
        ("shift_jis", "日本語のテキストです。これは文書の要約のテストです。東京は日本の首都です。"),
        ("cp1251", "Привет из Киева: це тестовий текст, і він досить довгий для визначення."),
        ("gb18030", "这是一个用于测试文档摘要的中文文本。北京是中国的首都，人口众多。"),
    ],
)
def test_text_in_common_encodings(tmp_path: Path, encoding: str, text: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes((text + "\n\n" + text + "\n").encode(encoding))
    document = extract_document(path)
    assert document.type == "text"
    assert document.sections[0].text == text + "\n\n" + text


def test_utf8_text_with_a_pasted_windows_1252_passage_reads_right(tmp_path: Path) -> None:
    utf8 = "Grüße aus Köln — “schön”, naïve café.\n\n" * 40
    legacy = "Café crème à la française, “quoted” – 20 €.\n"
    path = tmp_path / "mixed.txt"
    path.write_bytes(utf8.encode("utf-8") + legacy.encode("cp1252") + utf8.encode("utf-8"))
    document = extract_document(path)
    assert document.text == (utf8 + legacy + utf8).strip()


def test_a_huge_mixed_encoding_file_is_read_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above GUESS_WHOLE_BYTES the guess comes from samples; shrink it rather than write 8 MB.
    from app.documents.formats import text as text_format

    monkeypatch.setattr(text_format, "GUESS_WHOLE_BYTES", 1000)
    monkeypatch.setattr(text_format, "GUESS_SAMPLE_BYTES", 500)
    monkeypatch.setattr(text_format, "BLOCK_BYTES", 333)  # cuts through UTF-8 sequences
    utf8 = "Grüße aus Köln, schön und naïve.\n\n" * 60
    path = tmp_path / "mixed.txt"
    path.write_bytes(utf8.encode("utf-8") + "Crème brûlée.".encode("cp1252"))
    assert extract_document(path).text == utf8 + "Crème brûlée."


def test_epub_chapters_in_reading_order(tmp_path: Path) -> None:
    path = make_epub(
        tmp_path / "book.epub",
        [("Chapter One", "It begins here.\n\nMore of it."), ("Chapter Two", "It ends here.")],
        title="My Book",
    )
    document = extract_document(path)
    assert document.type == "epub"
    assert document.title == "My Book"
    text = document.text
    assert text.index("It begins here") < text.index("It ends here")
    assert ("Chapter Two",) in [s.heading_path for s in document.sections]


def test_odt_headings(tmp_path: Path) -> None:
    path = make_odt(
        tmp_path / "doc.odt", [(1, "Start"), (0, "First body."), (2, "Deeper"), (0, "Second body.")]
    )
    document = extract_document(path)
    assert [s.heading_path for s in document.sections] == [("Start",), ("Start", "Deeper")]
    assert "Second body." in document.sections[1].text


@pytest.mark.parametrize("name", ["empty.pdf", "empty.txt", "empty.docx"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(DocumentError, match="is empty"):
        extract_document(path)


@pytest.mark.parametrize("name", ["junk.pdf", "junk.docx", "junk.epub", "junk.odt", "junk.txt"])
def test_binary_junk_with_a_document_extension(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(DocumentError) as error:
        extract_document(path)
    assert name in str(error.value)


def test_corrupt_pdf_and_docx(tmp_path: Path) -> None:
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + b"garbage " * 100)
    with pytest.raises(DocumentError, match="not a readable PDF"):
        extract_document(pdf)
    docx_file = tmp_path / "broken.docx"
    docx_file.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(DocumentError, match="not a readable Word"):
        extract_document(docx_file)


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".epub", ".odt"])
def test_truncated_and_hollow_files_are_explained(tmp_path: Path, suffix: str) -> None:
    """A download cut in half, and a zip that holds none of the format's parts."""
    import zipfile

    builders = {
        ".pdf": lambda p: make_pdf(p, [page_text(1), page_text(2)]),
        ".docx": lambda p: make_docx(p, [("Heading 1", "A"), ("Normal", "Body.")]),
        ".epub": lambda p: make_epub(p, [("One", "Body one."), ("Two", "Body two.")]),
        ".odt": lambda p: make_odt(p, [(1, "A"), (0, "Body.")]),
    }
    whole = builders[suffix](tmp_path / f"whole{suffix}").read_bytes()
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(whole[: len(whole) // 2])
    hollow = tmp_path / f"hollow{suffix}"
    with zipfile.ZipFile(hollow, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    for path in (truncated, hollow):
        with pytest.raises(DocumentError, match=r"is not a (readable|PDF)") as error:
            extract_document(path)
        assert path.name in str(error.value)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    other = tmp_path / "image.png"
    other.write_bytes(b"\x89PNG")
    with pytest.raises(DocumentError, match="unknown document type"):
        extract_document(other)
    with pytest.raises(DocumentError, match="cannot be read"):
        extract_document(tmp_path / "missing.txt")
