from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest

from app.translation.files import FileFormatError, output_path, translate_file
from app.translation.translator import Translator
from inference.protocol import ChatMessage
from tests.support.umask import mode, umask


@dataclass
class Reply:
    text: str


class UppercaseEngine:
    """A pure file-format test double: 'translates' by upper-casing the segment."""

    n_ctx = 4096

    def __init__(self) -> None:
        self.sent: list[str] = []

    def chat(self, messages: Sequence[ChatMessage], **_kwargs: Any) -> Reply:
        self.sent.append(messages[-1].content)
        return Reply(messages[-1].content.upper())

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def cancel(self) -> None:
        pass


@pytest.fixture
def translator() -> Translator:
    return Translator(UppercaseEngine())


SRT = (
    "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there.\r\nHow are you?\r\n\r\n"
    "2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\n<i>Fine</i>, thanks!\r\n\r\n"
    "10\r\n01:02:03,004 --> 01:02:05,000\r\nBye.\r\n"
)


def test_srt_keeps_numbers_and_timings_byte_exact(tmp_path: Path, translator: Translator) -> None:
    source = tmp_path / "movie.srt"
    source.write_bytes(SRT.encode())
    result = translate_file(source, translator, target_lang="de")
    assert result.path == tmp_path / "movie.de.srt"
    assert result.path.read_bytes().decode() == (
        "1\r\n00:00:01,000 --> 00:00:02,500\r\nHELLO THERE.\r\nHOW ARE YOU?\r\n\r\n"
        "2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\n<i>FINE</i>, THANKS!\r\n\r\n"
        "10\r\n01:02:03,004 --> 01:02:05,000\r\nBYE.\r\n"
    )
    assert source.read_bytes().decode() == SRT


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\n00:00:01,000 -> 00:00:02,000\nHi\n", "cue 1: broken timing"),
        ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:61:00,000 --> 1\nYo\n", "cue 2: broken"),
        ("1\n00:00:05,000 --> 00:00:02,000\nHi\n", "cue 1: ends"),
        ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\nhello\n", "after cue 1: expected a cue"),
    ],
)
def test_broken_srt_names_the_cue_and_writes_nothing(
    tmp_path: Path, translator: Translator, content: str, message: str
) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    source = folder / "bad.srt"
    source.write_text(content, encoding="utf-8")
    with pytest.raises(FileFormatError, match=message):
        translate_file(source, translator, target_lang="de")
    assert sorted(p.name for p in folder.iterdir()) == ["bad.srt"]


def test_markdown_and_text_round_trip(tmp_path: Path, translator: Translator) -> None:
    md = tmp_path / "notes.md"
    md.write_text("# Title\n\nSome `code` here.\n\n- item\n", encoding="utf-8")
    assert translate_file(md, translator, target_lang="fr").path.read_text() == (
        "# TITLE\n\nSOME `code` HERE.\n\n- ITEM\n"
    )
    txt = tmp_path / "plain.txt"
    txt.write_text("Say `hi`.\r\n\r\nBye.", encoding="utf-8")
    out = translate_file(txt, translator, target_lang="fr").path
    assert out.name == "plain.fr.txt"
    assert out.read_bytes() == b"SAY `HI`.\r\n\r\nBYE."


def test_docx_keeps_paragraph_styles_run_formatting_and_tables(
    tmp_path: Path, translator: Translator
) -> None:
    source = tmp_path / "letter.docx"
    document = docx.Document()
    document.add_heading("Dear reader", level=1)
    paragraph = document.add_paragraph("", style="List Bullet")
    bold = paragraph.add_run("Hello ")
    bold.bold = True
    paragraph.add_run("world.")
    document.add_paragraph("")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "cell text"
    table.cell(0, 1).text = "42 kg"
    document.save(str(source))

    result = translate_file(source, translator, target_lang="es")
    assert result.path.name == "letter.es.docx"
    translated = docx.Document(str(result.path))
    texts = [(p.style.name, p.text) for p in translated.paragraphs]
    assert texts == [("Heading 1", "DEAR READER"), ("List Bullet", "HELLO WORLD."), ("Normal", "")]
    assert [(r.text, r.bold) for r in translated.paragraphs[1].runs] == [
        ("HELLO ", True),
        ("WORLD.", None),
    ]
    assert translated.tables[0].cell(0, 0).text == "CELL TEXT"
    assert translated.tables[0].cell(0, 1).text == "42 kg"


def test_never_overwrites_the_source_and_rejects_unknown_types(
    tmp_path: Path, translator: Translator
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("Hello.", encoding="utf-8")
    with pytest.raises(FileFormatError, match="refusing to overwrite"):
        translate_file(source, translator, target_lang="de", out=source)
    other = tmp_path / "a.pdf"
    other.write_bytes(b"%PDF")
    with pytest.raises(FileFormatError, match="unsupported file type"):
        translate_file(other, translator, target_lang="de")
    assert output_path(Path("/x/report.final.md"), "ja") == Path("/x/report.final.ja.md")


def test_an_existing_translation_is_never_replaced(tmp_path: Path, translator: Translator) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    source = folder / "a.txt"
    source.write_text("Hello.", encoding="utf-8")
    (folder / "a.de.txt").write_text("Hallo, von Hand verbessert.", encoding="utf-8")
    first = translate_file(source, translator, target_lang="de").path
    second = translate_file(source, translator, target_lang="de").path
    assert (first.name, second.name) == ("a.de (2).txt", "a.de (3).txt")
    assert (folder / "a.de.txt").read_text(encoding="utf-8") == "Hallo, von Hand verbessert."
    assert first.read_text(encoding="utf-8") == "HELLO."
    # No temporary file is left behind.
    assert sorted(p.name for p in folder.iterdir()) == [
        "a.de (2).txt",
        "a.de (3).txt",
        "a.de.txt",
        "a.txt",
    ]


def test_an_unwritable_folder_fails_before_any_translation(
    tmp_path: Path, translator: Translator
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("Hello.", encoding="utf-8")
    missing = tmp_path / "gone" / "a.de.txt"
    with pytest.raises(OSError):
        translate_file(source, translator, target_lang="de", out=missing)
    assert isinstance(translator.engine, UppercaseEngine) and translator.engine.sent == []


def test_a_file_not_in_utf8_gets_a_message_saying_what_to_do(
    tmp_path: Path, translator: Translator
) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    source = folder / "film.srt"
    cue = "Café crème, s'il vous plaît."
    source.write_bytes(f"1\n00:00:01,000 --> 00:00:02,000\n{cue}\n".encode("cp1252"))
    with pytest.raises(FileFormatError, match=r"film\.srt is not UTF-8 text .* Save it as UTF-8"):
        translate_file(source, translator, target_lang="en")
    assert [p.name for p in folder.iterdir()] == ["film.srt"]


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640)])
def test_a_translated_file_gets_the_permissions_of_any_new_file(
    tmp_path: Path, translator: Translator, mask: int, expected: int
) -> None:
    source = tmp_path / "talk.srt"
    source.write_bytes(SRT.encode())
    source.chmod(0o644)
    with umask(mask):
        written = translate_file(source, translator, target_lang="de").path
    assert mode(written) == expected


def test_a_translation_written_over_a_file_keeps_that_files_mode(
    tmp_path: Path, translator: Translator
) -> None:
    source = tmp_path / "notes.md"
    source.write_text("Hello.\n", encoding="utf-8")
    shared = tmp_path / "shared.md"
    shared.write_text("old", encoding="utf-8")
    shared.chmod(0o664)
    with umask(0o022):
        translate_file(source, translator, target_lang="de", out=shared)
    assert mode(shared) == 0o664 and shared.read_text(encoding="utf-8") == "HELLO.\n"
