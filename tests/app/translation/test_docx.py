"""DOCX round trips: inline formatting, links, pictures and fields survive translation,
whatever the model does with the markers that stand for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from PIL import Image

from app.translation.files import translate_file
from app.translation.protect import MARKER
from app.translation.translator import Translator
from inference.protocol import ChatMessage


@dataclass
class Reply:
    text: str


class RewritingEngine:
    """'Translates' each segment with `rewrite` (a pure function), recording what it saw."""

    n_ctx = 4096

    def __init__(self, rewrite: Callable[[str], str]) -> None:
        self.rewrite = rewrite
        self.sent: list[str] = []

    def chat(self, messages: Sequence[ChatMessage], **_kwargs: Any) -> Reply:
        self.sent.append(messages[-1].content)
        return Reply(self.rewrite(messages[-1].content))

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def cancel(self) -> None:
        pass


def _hyperlink(paragraph: Any, url: str, text: str) -> None:
    r_id = paragraph.part.relate_to(
        url,
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink",
        is_external=True,
    )
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    run_text = OxmlElement("w:t")
    run_text.text = text
    run.append(run_text)
    link.append(run)
    paragraph._p.append(link)


def _page_field(paragraph: Any) -> None:
    """A PAGE field as Word writes it: begin, instruction, separate, result, end."""
    for kind, content in (
        ("begin", None),
        (None, " PAGE "),
        ("separate", None),
        (None, "7"),
        ("end", None),
    ):
        run = paragraph.add_run()
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif content == " PAGE ":
            instruction = OxmlElement("w:instrText")
            instruction.text = content
            run._r.append(instruction)
        else:
            run.text = content


@pytest.fixture
def letter(tmp_path: Path) -> Path:
    picture = tmp_path / "dot.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    document = docx.Document()
    first = document.add_paragraph("Please read ")
    bold = first.add_run("the terms")
    bold.bold = True
    first.add_run(" before you sign. ")
    italic = first.add_run("Really.")
    italic.italic = True
    second = document.add_paragraph("Visit ")
    _hyperlink(second, "https://example.org", "our site")
    second.add_run(" today.")
    third = document.add_paragraph("Our logo ")
    third.add_run().add_picture(str(picture))
    third.add_run(" is red.\tTab and\nbreak.")
    fourth = document.add_paragraph("This is page ")
    _page_field(fourth)
    fourth.add_run(" of the letter.")
    path = tmp_path / "letter.docx"
    document.save(str(path))
    return path


def _runs(paragraph: Any) -> list[tuple[str, bool | None, bool | None]]:
    return [(run.text, run.bold, run.italic) for run in paragraph.runs if run.text]


def _translated(path: Path, rewrite: Callable[[str], str]) -> tuple[Any, RewritingEngine]:
    engine = RewritingEngine(rewrite)
    result = translate_file(path, Translator(engine), target_lang="de")
    assert result.path == path.with_name("letter.de.docx")
    return docx.Document(str(result.path)), engine


def test_inline_formatting_links_pictures_and_fields_survive(letter: Path) -> None:
    translated, engine = _translated(letter, str.upper)
    first, second, third, fourth = translated.paragraphs
    assert _runs(first) == [
        ("PLEASE READ ", None, None),
        ("THE TERMS", True, None),
        (" BEFORE YOU SIGN. ", None, None),
        ("REALLY.", None, True),
    ]
    # The link keeps its target and gets the translated words; nothing is doubled.
    assert second.text == "VISIT OUR SITE TODAY."
    [link] = second.hyperlinks
    assert (link.text, link.address) == ("OUR SITE", "https://example.org")
    assert third.text == "OUR LOGO  IS RED.\tTAB AND\nBREAK."
    assert len(translated.inline_shapes) == 1
    assert fourth.text == "THIS IS PAGE 7 OF THE LETTER."
    assert fourth._p.xml.count("w:fldCharType") == 3 and " PAGE " in fourth._p.xml
    # The model saw markers for the formatting, never Word's XML or the picture.
    assert engine.sent[0] == "Please read ⟦1⟧the terms⟦2⟧ before you sign. ⟦3⟧Really.⟦4⟧"
    assert all("hearth-run" not in text and "<" not in text for text in engine.sent)
    assert (
        docx.Document(str(letter)).paragraphs[0].text
        == "Please read the terms before you sign. Really."
    )


def test_words_moved_by_the_model_keep_their_own_formatting(letter: Path) -> None:
    def reorder(text: str) -> str:
        # Like German moving a phrase: the bold phrase goes to the end of the sentence.
        if text.startswith("Please read ⟦1⟧"):
            return "Bitte vor dem Unterschreiben ⟦1⟧die Bedingungen⟦2⟧ lesen. ⟦3⟧Wirklich.⟦4⟧"
        return text

    translated, _engine = _translated(letter, reorder)
    assert _runs(translated.paragraphs[0]) == [
        ("Bitte vor dem Unterschreiben ", None, None),
        ("die Bedingungen", True, None),
        (" lesen. ", None, None),
        ("Wirklich.", None, True),
    ]


def test_markers_the_model_drops_lose_no_text_picture_or_field(letter: Path) -> None:
    engine = RewritingEngine(lambda text: MARKER.sub("", text).upper())
    result = translate_file(letter, Translator(engine), target_lang="de")
    translated = docx.Document(str(result.path))
    first, second, third, fourth = translated.paragraphs
    assert first.text == "PLEASE READ THE TERMS BEFORE YOU SIGN. REALLY."
    assert second.text.startswith("VISIT OUR SITE TODAY.")
    assert len(translated.inline_shapes) == 1  # put back at the end of its paragraph
    assert third.text.startswith("OUR LOGO  IS RED.")
    assert "7" in fourth.text and fourth._p.xml.count("w:fldCharType") == 3
    # One plain note for the user, not the internal tag names.
    assert any("inline formatting" in flag for flag in result.flags)
    assert not any("hearth-run" in flag for flag in result.flags)
