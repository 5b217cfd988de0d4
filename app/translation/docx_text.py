"""A DOCX paragraph as translatable text that carries its inline formatting.

Word stores a paragraph as runs (w:r, each with its own bold/italic/font/colour), links
(w:hyperlink, holding runs) and runs that hold no text (pictures, fields, footnote marks).
Translation reorders words, so runs cannot be mapped one to one. Instead the text of each
run with other formatting than the paragraph's main one is wrapped in tags such as
``<hearth-run-2>bold words</hearth-run-2>``, and each non-text run becomes
``<hearth-run-3/>``. The segmenter turns tags into markers (⟦n⟧) the model keeps in place,
so after translation each stretch of text is written back with the formatting it had, and
every picture or field is put back where the model left its marker (at the end if it
dropped it): no picture, field or link is lost.

python-docx is imported lazily by the caller; this module only walks lxml elements.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from docx.oxml.ns import qn
from docx.text.run import Run
from lxml import etree

_TAG = re.compile(r"<(/?)hearth-run-(\d+)(/?)>")
_TAG_PREFIX = "<hearth-run-"
# Run children that are text (python-docx's Run.text reads and writes them) or mere
# rendering hints Word adds and rebuilds (lastRenderedPageBreak, proofing marks).
_TEXT_CHILDREN = {
    qn(name)
    for name in ("w:rPr", "w:t", "w:tab", "w:cr", "w:noBreakHyphen", "w:lastRenderedPageBreak")
}
_BR = qn("w:br")
_RUN = qn("w:r")
_HYPERLINK = qn("w:hyperlink")
_FLD_CHAR = qn("w:fldChar")
_FLD_TYPE = qn("w:fldCharType")
_BR_TYPE = qn("w:type")


@dataclass
class _Group:
    """Consecutive text runs (or one link) of the same formatting."""

    key: bytes
    template: Any  # the first w:r or w:hyperlink: its formatting is reused
    text: str = ""


@dataclass
class _Fixed:
    """Elements without translatable text (a picture, a whole field), kept as they are."""

    elements: list[Any] = field(default_factory=list)


@dataclass
class DocxParagraph:
    """One paragraph: `text` (with tags) goes to the translator; `apply` writes back."""

    paragraph: Any  # docx.text.paragraph.Paragraph
    text: str
    tagged: bool  # False: the text has no tags, all of it gets the main formatting
    _items: list[_Group | _Fixed]
    _elements: list[Any]  # the paragraph's own w:r / w:hyperlink children, replaced by apply
    _main: bytes  # formatting key of the untagged text

    def apply(self, translated: str) -> None:
        pieces = self._pieces(translated) if self.tagged else [(None, translated)]
        groups = [item for item in self._items if isinstance(item, _Group)]
        main = next((group for group in groups if group.key == self._main), groups[0])
        new: list[Any] = []
        used: set[int] = set()
        for owner, content in pieces:
            if isinstance(owner, _Fixed):
                new += owner.elements
                used.add(id(owner))
            elif content:
                new.append(_clone_with_text((owner or main).template, content, self.paragraph))
        for item in self._items:
            if isinstance(item, _Fixed) and id(item) not in used:
                new += item.elements  # the model dropped its marker: nothing is lost
        parent = self.paragraph._p
        position = parent.index(self._elements[0])
        for element in self._elements:
            parent.remove(element)
        for offset, element in enumerate(new):
            parent.insert(position + offset, element)

    def _pieces(self, translated: str) -> list[tuple[_Group | _Fixed | None, str]]:
        """Stretches of the translation with the group (None: main formatting) or fixed
        item each belongs to; tags the model mangled are dropped, their text kept."""
        pieces: list[tuple[_Group | _Fixed | None, str]] = []
        current: _Group | None = None
        position = 0
        placed: set[int] = set()
        for match in _TAG.finditer(translated):
            pieces.append((current, translated[position : match.start()]))
            position = match.end()
            closing, number, empty = match.group(1), int(match.group(2)), match.group(3)
            item = self._items[number - 1] if 1 <= number <= len(self._items) else None
            if empty and isinstance(item, _Fixed) and number not in placed:
                placed.add(number)
                pieces.append((item, ""))
            elif closing:
                current = None
            elif not empty and isinstance(item, _Group):
                current = item
        pieces.append((current, translated[position:]))
        # Markers the model dropped come back at the end, space-separated: those spaces
        # after the last words are no text of the paragraph.
        last = max(
            (n for n, (_owner, text) in enumerate(pieces) if text.strip()),
            default=len(pieces),
        )
        kept = [
            piece for n, piece in enumerate(pieces) if n <= last or isinstance(piece[0], _Fixed)
        ]
        if last < len(pieces):
            # The paragraph ends with the source's own trailing spaces, not the model's.
            owner, text = kept[last]
            source = _TAG.sub("", self.text)
            kept[last] = (owner, text.rstrip() + source[len(source.rstrip()) :])
        return kept


def docx_paragraph(paragraph: Any) -> DocxParagraph | None:
    """The paragraph as tagged text, or None when it has no text to translate."""
    elements = [child for child in paragraph._p.iterchildren() if child.tag in (_RUN, _HYPERLINK)]
    items = _items(elements)
    groups = [item for item in items if isinstance(item, _Group)]
    if not any(group.text.strip() for group in groups):
        return None
    sizes: dict[bytes, int] = {}
    for group in groups:
        sizes[group.key] = sizes.get(group.key, 0) + len(group.text)
    main = max(sizes, key=lambda key: sizes[key])
    if any(_TAG_PREFIX in group.text for group in groups):
        # The document itself contains our tag: translate its text plainly (the first
        # run's formatting for all of it; pictures and fields go after it).
        text = "".join(group.text for group in groups)
        return DocxParagraph(paragraph, text, False, items, elements, groups[0].key)
    parts: list[str] = []
    for number, item in enumerate(items, 1):
        if isinstance(item, _Fixed):
            parts.append(f"<hearth-run-{number}/>")
        elif item.key == main:
            parts.append(item.text)
        elif item.text:
            parts.append(f"<hearth-run-{number}>{item.text}</hearth-run-{number}>")
    text = "".join(parts)
    return DocxParagraph(paragraph, text, _TAG_PREFIX in text, items, elements, main)


def _items(elements: list[Any]) -> list[_Group | _Fixed]:
    items: list[_Group | _Fixed] = []
    open_field: _Fixed | None = None
    depth = 0
    for element in elements:
        balance = _field_balance(element)
        if open_field is not None or balance > 0:
            # A complex field (page number, cross-reference, table of contents) runs
            # from fldChar begin to end; its parts stay together and in order.
            if open_field is None:
                open_field = _Fixed()
                items.append(open_field)
            open_field.elements.append(element)
            depth += balance
            if depth <= 0:
                open_field, depth = None, 0
            continue
        if element.tag == _HYPERLINK:
            runs = list(element.iterchildren(_RUN))
            if not runs or not all(_is_text_run(run) for run in runs):
                items.append(_Fixed([element]))
                continue
            text = "".join(Run(run, None).text for run in runs)  # type: ignore[arg-type]
            target = element.get(qn("r:id")) or element.get(qn("w:anchor")) or ""
            key = b"link:" + target.encode() + b":" + _format_key(runs[0])
            items.append(_Group(key, element, text))
            continue
        if not _is_text_run(element):
            items.append(_Fixed([element]))
            continue
        key = _format_key(element)
        text = Run(element, None).text  # type: ignore[arg-type]
        last = items[-1] if items else None
        if isinstance(last, _Group) and last.key == key and last.template.tag == _RUN:
            last.text += text
        else:
            items.append(_Group(key, element, text))
    return items


def _field_balance(element: Any) -> int:
    balance = 0
    for char in element.iter(_FLD_CHAR):
        kind = char.get(_FLD_TYPE)
        balance += 1 if kind == "begin" else -1 if kind == "end" else 0
    return balance


def _is_text_run(run: Any) -> bool:
    if run.tag != _RUN:
        return False
    for child in run.iterchildren():
        if child.tag == _BR and child.get(_BR_TYPE) in (None, "textWrapping"):
            continue  # a line break: Run.text reads it as "\n" and writes it back
        if child.tag not in _TEXT_CHILDREN:
            return False
    return True


def _format_key(run: Any) -> bytes:
    properties = run.find(qn("w:rPr"))
    return b"" if properties is None else etree.tostring(properties, method="c14n")


def _clone_with_text(template: Any, text: str, paragraph: Any) -> Any:
    clone = copy.deepcopy(template)
    if clone.tag == _HYPERLINK:
        runs = list(clone.iterchildren(_RUN))
        for extra in runs[1:]:
            clone.remove(extra)
        Run(runs[0], paragraph).text = text
    else:
        Run(clone, paragraph).text = text
    return clone
