"""Glossary for one language pair: required term translations and words to keep as they are.

Files:
- JSON: {"source": "en", "target": "de", "terms": {"invoice": "Rechnung"},
         "do_not_translate": ["Hearth"]}  ("terms" may also be a list of
         {"source": ..., "target": ...} objects; "source"/"target" languages are optional)
- CSV or TSV: one term per line, `source,target`; a line with only a source term (or an
  empty target) means "do not translate". A first line `source,target` is a header.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.util.untrusted_json import utf8_size

Span = tuple[int, int]  # [start, end) in a Python string


class GlossaryError(ValueError):
    """A glossary file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Term:
    source: str
    target: str


@dataclass(frozen=True)
class Violation:
    """One glossary entry a translation did not respect, and where: every occurrence of the
    term in the source paragraphs concerned, and in the translation the term left as it
    was (exact) or else the paragraph(s) where the wrong rendering must be."""

    term: str
    expected: str | None  # None: the term should have stayed as it is
    message: str  # the same words as `Glossary.check`
    source_spans: tuple[Span, ...]
    translation_spans: tuple[Span, ...]
    translation_exact: bool


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()
    keep: tuple[str, ...] = ()  # do-not-translate list
    source_lang: str | None = None
    target_lang: str | None = None

    def __bool__(self) -> bool:
        return bool(self.terms or self.keep)

    def key(self) -> str:
        """Stable fingerprint for cache keys: a glossary edit invalidates translations."""
        payload = json.dumps(
            [[(t.source, t.target) for t in self.terms], list(self.keep)], ensure_ascii=False
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def relevant(self, text: str) -> Glossary:
        """Only the entries that occur in `text`: keeps each prompt short."""
        return Glossary(
            tuple(t for t in self.terms if _contains(text, t.source, ignore_case=True)),
            tuple(k for k in self.keep if _contains(text, k, ignore_case=False)),
            self.source_lang,
            self.target_lang,
        )

    def instructions(self) -> str:
        """The glossary as prompt lines ("" when empty)."""
        lines: list[str] = []
        if self.terms:
            lines.append("Use these translations for the following terms:")
            lines += [f'- "{t.source}" → "{t.target}"' for t in self.terms]
        if self.keep:
            lines.append("Keep these words exactly as they are (do not translate them):")
            lines += [f'- "{word}"' for word in self.keep]
        return "\n".join(lines)

    def check(self, source: str, translation: str) -> list[str]:
        """Plain-words notes on glossary entries the translation did not respect."""
        flags: list[str] = []
        for term in self.terms:
            if _contains(source, term.source, ignore_case=True) and not _contains(
                translation, term.target, ignore_case=True
            ):
                flags.append(_term_message(term))
        for word in self.keep:
            if _contains(source, word, ignore_case=False) and not _contains(
                translation, word, ignore_case=False
            ):
                flags.append(_keep_message(word))
        return flags

    def violations(self, source: str, translation: str) -> list[Violation]:
        """Where `check`'s problems are. Paragraphs are compared pairwise when both texts
        have as many (the translator keeps the source's layout), so a term respected in
        one paragraph and not in another marks only the second."""
        source_paragraphs = _paragraphs(source)
        translated_paragraphs = _paragraphs(translation)
        aligned = len(source_paragraphs) == len(translated_paragraphs)
        pairs = (
            list(zip(source_paragraphs, translated_paragraphs, strict=True))
            if aligned
            else [((0, len(source)), (0, len(translation)))]
        )
        entries = [
            (t.source, t.target, _pattern(t.source, True), _pattern(t.target, True))
            for t in self.terms
        ] + [(w, None, _pattern(w, False), _pattern(w, False)) for w in self.keep]
        found: list[Violation] = []
        for term, expected, wanted, rendering in entries:
            source_spans: list[Span] = []
            translation_spans: list[Span] = []
            exact = True
            for (s_start, s_end), (t_start, t_end) in pairs:
                here = [m.span() for m in wanted.finditer(source, s_start, s_end)]
                if not here or rendering.search(translation, t_start, t_end):
                    continue
                source_spans += here
                # A term copied over untranslated is the wrong rendering, found exactly.
                left = (
                    [] if expected is None else list(wanted.finditer(translation, t_start, t_end))
                )
                if left:
                    translation_spans += [m.span() for m in left]
                elif aligned and t_end > t_start:
                    translation_spans.append((t_start, t_end))
                    exact = False
            if source_spans:
                message = (
                    _keep_message(term) if expected is None else _term_message(Term(term, expected))
                )
                found.append(
                    Violation(
                        term,
                        expected,
                        message,
                        tuple(source_spans),
                        tuple(translation_spans),
                        exact,
                    )
                )
        return found


def _term_message(term: Term) -> str:
    return f'"{term.source}" should be translated as "{term.target}"'


def _keep_message(word: str) -> str:
    return f'"{word}" should stay untranslated'


def _pattern(term: str, ignore_case: bool) -> re.Pattern[str]:
    # Word boundaries only where the term starts/ends with a word character, so "C++"
    # and CJK terms still match.
    start = r"(?<!\w)" if term[:1].isalnum() else ""
    end = r"(?!\w)" if term[-1:].isalnum() else ""
    return re.compile(start + re.escape(term) + end, re.IGNORECASE if ignore_case else 0)


def _contains(text: str, term: str, *, ignore_case: bool) -> bool:
    return _pattern(term, ignore_case).search(text) is not None


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def _paragraphs(text: str) -> list[Span]:
    """The non-blank stretches between blank lines."""
    spans: list[Span] = []
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def load_glossary(path: Path) -> Glossary:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise GlossaryError(f"cannot read glossary {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GlossaryError(f"glossary {path} is not UTF-8 text") from exc
    if path.suffix.lower() == ".json":
        return parse_json(raw, name=str(path))
    delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in raw.split("\n", 1)[0] else ","
    return parse_table(raw, delimiter=delimiter, name=str(path))


def parse_json(raw: str, *, name: str = "glossary") -> Glossary:
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise GlossaryError(f"{name}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:  # Python's parser recurses once per level of nesting
        raise GlossaryError(f"{name}: nests lists or objects too deeply to be read") from exc
    except ValueError as exc:  # a whole number of over 4,300 digits (int()'s own limit)
        raise GlossaryError(f"{name}: holds a number too long to read") from exc
    return glossary_from_data(data, name=name)


def _valid_text(value: str) -> bool:
    """False for a lone surrogate such as "\\ud800": valid in JSON text, not in Unicode,
    so it could never be written back as UTF-8 (the store's save would fail)."""
    return utf8_size(value) is not None


def glossary_from_data(data: Any, *, name: str = "glossary") -> Glossary:
    """A glossary from the value of a JSON glossary document (see `parse_json`)."""
    if not isinstance(data, dict):
        raise GlossaryError(f"{name}: expected a JSON object with 'terms'")
    terms: list[Term] = []
    raw_terms = data.get("terms", {})
    if isinstance(raw_terms, dict):
        items = list(raw_terms.items())
    elif isinstance(raw_terms, list):
        items = []
        for number, entry in enumerate(raw_terms, 1):
            if not isinstance(entry, dict) or not {"source", "target"} <= entry.keys():
                raise GlossaryError(
                    f"{name}: term {number} needs 'source' and 'target' (got {entry!r})"
                )
            items.append((entry["source"], entry["target"]))
    else:
        raise GlossaryError(f"{name}: 'terms' must be an object or a list")
    for source, target in items:
        if not isinstance(source, str) or not isinstance(target, str) or not source.strip():
            raise GlossaryError(f"{name}: term {source!r} → {target!r} must be two texts")
        if not (_valid_text(source) and _valid_text(target)):
            raise GlossaryError(f"{name}: term {source!r} → {target!r} is not valid text")
        terms.append(Term(source.strip(), target.strip()))
    keep = data.get("do_not_translate", [])
    if not isinstance(keep, list) or not all(
        isinstance(k, str) and k.strip() and _valid_text(k) for k in keep
    ):
        raise GlossaryError(f"{name}: 'do_not_translate' must be a list of texts")
    source_lang = data.get("source")
    target_lang = data.get("target")
    for key, value in (("source", source_lang), ("target", target_lang)):
        if value is not None and not (isinstance(value, str) and _valid_text(value)):
            raise GlossaryError(f"{name}: '{key}' must be a language code")
    return Glossary(tuple(terms), tuple(k.strip() for k in keep), source_lang, target_lang)


def parse_table(raw: str, *, delimiter: str = ",", name: str = "glossary") -> Glossary:
    terms: list[Term] = []
    keep: list[str] = []
    reader = csv.reader(io.StringIO(raw), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if line == 1 and [c.lower() for c in cells[:2]] == ["source", "target"]:
                continue
            if len(cells) > 2:
                raise GlossaryError(
                    f"{name}, line {line}: expected 'source{delimiter}target', "
                    f"found {len(cells)} columns"
                )
            if not cells[0]:
                raise GlossaryError(f"{name}, line {line}: the source term is empty")
            if len(cells) == 1 or not cells[1]:
                keep.append(cells[0])
            else:
                terms.append(Term(cells[0], cells[1]))
    except csv.Error as exc:
        raise GlossaryError(f"{name}, line {reader.line_num}: {exc}") from exc
    return Glossary(tuple(terms), tuple(keep))


def dump_json(glossary: Glossary) -> str:
    """The JSON file format `parse_json` reads back (languages included when known)."""
    data: dict[str, Any] = {}
    if glossary.source_lang:
        data["source"] = glossary.source_lang
    if glossary.target_lang:
        data["target"] = glossary.target_lang
    data["terms"] = {term.source: term.target for term in glossary.terms}
    data["do_not_translate"] = list(glossary.keep)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
