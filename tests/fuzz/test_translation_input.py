"""Property: SRT, Markdown, text and DOCX files given to the file translator, damaged or
made up, are translated or refused with FileFormatError (a ValueError, as documented in
app.translation.files); never another exception, never a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.translation.files import FileFormatError, translate_file_data
from app.translation.translator import Translator
from tests.support.document_builders import make_docx
from tests.support.fuzzing import FUZZ, UppercaseEngine, mutated, rezipped

pytestmark = pytest.mark.timeout(180)

SRT = (
    "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there.\r\nHow are you?\r\n\r\n"
    "2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\n<i>Fine</i>, thanks!\r\n\r\n"
    "10\r\n01:02:03,004 --> 01:02:05,000\r\nBye.\r\n"
)
MARKDOWN = (
    "# Title\n\nA paragraph with **bold**, `code` and a [link](http://x.y).\n\n"
    "- one\n- two\n\n```python\nprint('x')\n```\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
)
# Text built from the characters SRT and Markdown care about, so the made-up files reach
# the cue and block parsers rather than failing at their first line.
SRT_TEXT = st.text(alphabet="0123456789:,.-> \r\n\ufeffab<i>", max_size=200)
MARKDOWN_TEXT = st.text(
    alphabet=st.sampled_from(list("#*_`[]()!>|-+=~\\<>\n\r\t 1.aZ")) | st.characters(), max_size=300
)


def _translates_or_refuses(file: Path) -> None:
    try:
        result = translate_file_data(file, Translator(UppercaseEngine()), target_lang="de")
    except FileFormatError as exc:
        assert str(exc)
    else:
        assert isinstance(result.data, bytes)


@FUZZ
@given(data=st.data())
def test_damaged_srt_translates_or_is_refused(tmp_path: Path, data: st.DataObject) -> None:
    file = tmp_path / "movie.srt"
    file.write_bytes(mutated(data, SRT.encode()))
    _translates_or_refuses(file)


@FUZZ
@given(text=SRT_TEXT)
def test_made_up_srt_translates_or_is_refused(tmp_path: Path, text: str) -> None:
    file = tmp_path / "movie.srt"
    file.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _translates_or_refuses(file)


@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".md", ".txt"]))
def test_damaged_markdown_and_text_translate_or_are_refused(
    tmp_path: Path, data: st.DataObject, suffix: str
) -> None:
    file = tmp_path / f"notes{suffix}"
    file.write_bytes(mutated(data, MARKDOWN.encode()))
    _translates_or_refuses(file)


@FUZZ
@given(text=MARKDOWN_TEXT)
def test_made_up_markdown_translates_or_is_refused(tmp_path: Path, text: str) -> None:
    file = tmp_path / "notes.md"
    file.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _translates_or_refuses(file)


@pytest.fixture(scope="module")
def docx_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("docx") / "letter.docx"
    blocks = [
        ("Title", "A letter"),
        ("Heading 1", "First"),
        ("Normal", "Some text."),
        ("Normal", "More."),
    ]
    return make_docx(path, blocks, title="Letter").read_bytes()


@FUZZ
@given(data=st.data(), inside=st.booleans())
def test_damaged_docx_translates_or_is_refused(
    tmp_path: Path, docx_bytes: bytes, data: st.DataObject, inside: bool
) -> None:
    file = tmp_path / "letter.docx"
    file.write_bytes(rezipped(data, docx_bytes) if inside else mutated(data, docx_bytes))
    _translates_or_refuses(file)
