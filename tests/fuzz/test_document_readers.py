"""Property: a small valid document of every supported type, with damaged bytes (or, for the
zip-based formats, a damaged member zipped again), is read or refused with DocumentError, as
app.documents.extract documents; never another exception, never a hang."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.documents.extract import DocumentError, extract_document
from tests.support.document_builders import make_docx, make_epub, make_odt, make_pdf
from tests.support.fuzzing import FUZZ, mutated, rezipped, with_member

pytestmark = pytest.mark.timeout(300)

HTML = (
    "<!DOCTYPE html><html><head><title>Page</title><meta charset='utf-8'></head><body>"
    "<h1>Head</h1><p>Some <b>bold</b> text &amp; an entity.</p><ul><li>one</li></ul>"
    "<table><tr><td>cell</td></tr></table><script>var x = 1;</script></body></html>"
)
MARKDOWN = "# Title\n\nText under it.\n\n## Part\n\n- item\n\n```\ncode\n```\n"
TEXT = "Plain words, café, naïve.\nA second line.\n"


def _pdf(path: Path) -> Path:
    return make_pdf(path, ["First page text.", "Second page text."], "Report")


def _docx(path: Path) -> Path:
    return make_docx(path, [("Heading 1", "Head"), ("Normal", "Body text.")], title="Doc")


def _epub(path: Path) -> Path:
    return make_epub(path, [("One", "First chapter.\n\nMore."), ("Two", "Second.")])


def _odt(path: Path) -> Path:
    return make_odt(path, [(1, "Head"), (0, "Body text.")])


def _writer(content: str) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        path.write_text(content, encoding="utf-8")
        return path

    return write


BUILDERS: dict[str, Callable[[Path], Path]] = {
    ".pdf": _pdf,
    ".docx": _docx,
    ".epub": _epub,
    ".odt": _odt,
    ".html": _writer(HTML),
    ".md": _writer(MARKDOWN),
    ".txt": _writer(TEXT),
}
ZIPPED = {".docx", ".epub", ".odt"}


class Originals(dict[str, bytes]):
    """The valid files by suffix; a short repr keeps hypothesis's failure reports readable."""

    def __repr__(self) -> str:
        return f"Originals({sorted(self)})"


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Originals:
    folder = tmp_path_factory.mktemp("originals")
    return Originals(
        {suffix: build(folder / f"doc{suffix}").read_bytes() for suffix, build in BUILDERS.items()}
    )


def _reads_or_refuses(file: Path) -> None:
    try:
        document = extract_document(file)
    except DocumentError as exc:
        assert str(exc)
    else:
        assert document.sections


@pytest.mark.parametrize("suffix", list(BUILDERS))
@FUZZ
@given(data=st.data())
def test_damaged_document_is_read_or_refused(
    tmp_path: Path, originals: Originals, suffix: str, data: st.DataObject
) -> None:
    file = tmp_path / f"doc{suffix}"
    file.write_bytes(mutated(data, originals[suffix]))
    _reads_or_refuses(file)


@pytest.mark.parametrize("suffix", sorted(ZIPPED))
@FUZZ
@given(data=st.data())
def test_document_with_a_damaged_part_is_read_or_refused(
    tmp_path: Path, originals: Originals, suffix: str, data: st.DataObject
) -> None:
    file = tmp_path / f"doc{suffix}"
    file.write_bytes(rezipped(data, originals[suffix]))
    _reads_or_refuses(file)


# The first failures fuzzing found (issue 15), kept as plain examples.
@pytest.mark.parametrize(
    ("suffix", "member", "cut"),
    [
        (".docx", "[Content_Types].xml", 1),  # lxml XMLSyntaxError from python-docx
        (".epub", "EPUB/nav.xhtml", 1),  # IndexError in ebooklib's nav parsing
        (".odt", "mimetype", 0),  # odfpy: no attribute "text" (AttributeError)
    ],
)
def test_a_package_with_a_broken_part_is_refused_with_document_error(
    tmp_path: Path, originals: Originals, suffix: str, member: str, cut: int
) -> None:
    file = tmp_path / f"doc{suffix}"
    file.write_bytes(with_member(originals[suffix], member, b"<"[:cut]))
    with pytest.raises(DocumentError, match="is not a readable"):
        extract_document(file)


def test_a_pdf_whose_page_cannot_be_loaded_is_refused_with_document_error(
    tmp_path: Path, originals: Originals
) -> None:
    damaged = bytearray(originals[".pdf"])
    damaged[33] = 0  # inside the page tree: pdfium opens the file but cannot load a page
    file = tmp_path / "doc.pdf"
    file.write_bytes(bytes(damaged))
    with pytest.raises(DocumentError):
        extract_document(file)
