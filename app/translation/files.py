"""Translate files: TXT, Markdown, SRT subtitles and DOCX.

Results are written next to the source as `name.<lang>.ext` through a temporary file and an
atomic rename, so a failed or cancelled run never leaves a partial file; neither the source
nor an existing file is ever overwritten (the default name gets a number instead).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.translation.glossary import Glossary
from app.translation.segmenter import SegmentedText, concat
from app.translation.translator import OnProgress, Translator
from app.util.atomic_write import PendingFile

SUPPORTED = (".txt", ".md", ".markdown", ".srt", ".docx")
# Separates pieces (cues, DOCX paragraphs) in the joined result; never reaches the model.
_SEPARATOR = "\x00"
_TIMING = re.compile(
    r"^(\d{2,}):([0-5]\d):([0-5]\d)[,.](\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)[,.](\d{3})"
    r"(?:[ \t].*)?$"
)


class FileFormatError(ValueError):
    """The file cannot be translated as it is; the message says where and why."""


@dataclass(frozen=True)
class FileTranslation:
    path: Path
    flags: tuple[str, ...]


@dataclass(frozen=True)
class TranslatedData:
    data: bytes  # the whole translated file
    flags: tuple[str, ...]


def output_path(source: Path, target_lang: str) -> Path:
    """NAME.LANG.EXT next to the source. A file already there (an earlier translation,
    perhaps corrected by hand) is never replaced: then NAME.LANG (2).EXT, (3), …"""
    candidate = source.with_name(f"{source.stem}.{target_lang}{source.suffix}")
    number = 2
    while candidate.exists() or candidate == source:
        candidate = source.with_name(f"{source.stem}.{target_lang} ({number}){source.suffix}")
        number += 1
    return candidate


def translate_file(
    source: Path,
    translator: Translator,
    *,
    target_lang: str,
    source_lang: str | None = None,
    glossary: Glossary | None = None,
    out: Path | None = None,
    on_progress: OnProgress | None = None,
) -> FileTranslation:
    """Translate `source` into a file: `out`, or NAME.LANG.EXT next to the source."""
    check_supported(source)
    if out is not None and out.resolve() == source.resolve():
        raise FileFormatError(f"{out}: refusing to overwrite the source file")
    # The temporary file is made before translating, so an unwritable folder is said at
    # once, and renamed into place only when complete.
    folder = (out or source).parent
    with PendingFile(folder, prefix=f".{source.stem}.{target_lang}.") as pending:
        translated = translate_file_data(
            source,
            translator,
            target_lang=target_lang,
            source_lang=source_lang,
            glossary=glossary,
            on_progress=on_progress,
        )
        pending.write(translated.data)
        # Named now, not before: during a long translation the default name may have
        # been taken, and an existing file is never replaced.
        target = pending.commit(out or output_path(source, target_lang))
    return FileTranslation(target, translated.flags)


def translate_file_data(
    source: Path,
    translator: Translator,
    *,
    target_lang: str,
    source_lang: str | None = None,
    glossary: Glossary | None = None,
    on_progress: OnProgress | None = None,
) -> TranslatedData:
    """The bytes of the translated file, exactly what `translate_file` writes: the file's
    format (not where the result goes) decides what reaches the model."""
    suffix = check_supported(source)

    def run(segmented: SegmentedText) -> tuple[str, tuple[str, ...]]:
        result = translator.translate_segments(
            segmented,
            target_lang=target_lang,
            source_lang=source_lang,
            glossary=glossary or Glossary(),
            on_progress=on_progress,
        )
        return result.text, result.flags

    if suffix == ".docx":
        return _translate_docx(source, translator, run)
    text = read_text(source)
    if suffix == ".srt":
        segmented, _ = srt_document(text, translator)
    else:
        segmented = translator.segment(text, markdown=suffix != ".txt")
    translated, flags = run(segmented)
    return TranslatedData(translated.encode("utf-8"), flags)


def check_supported(source: Path) -> str:
    """The file's suffix, lower-cased; FileFormatError when Hearth cannot translate it."""
    suffix = source.suffix.lower()
    if suffix not in SUPPORTED:
        raise FileFormatError(
            f"{source.name}: unsupported file type (supported: {', '.join(SUPPORTED)})"
        )
    return suffix


SAVE_AS_UTF8 = "Save it as UTF-8 (in most editors: Save as… → Encoding) and translate it again."


def decode_text(data: bytes, name: str, *, fix: str = SAVE_AS_UTF8) -> str:
    """`data` as UTF-8 text, or FileFormatError saying so and how to `fix` it. `name` is
    the file's name, or where the text came from."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Guessing a legacy encoding (charset-normalizer) misreads short subtitles, e.g.
        # French in Windows-1252 as Central European: better to ask for UTF-8.
        raise FileFormatError(f"{name} is not UTF-8 text (byte {exc.start}). {fix}") from exc


def read_text(path: Path) -> str:
    return decode_text(path.read_bytes(), path.name)


# ---- SRT ----------------------------------------------------------------------------------


def srt_document(text: str, translator: Translator) -> tuple[SegmentedText, int]:
    """Cue numbers, timings and blank lines as literals; only cue text is translatable.
    Returns the document and the number of cues. Raises FileFormatError naming the cue."""
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
    pieces: list[str | SegmentedText] = []
    position = 0
    cues = 0
    previous = "the start of the file"
    while position < len(lines):
        line = lines[position]
        if not line.strip() or (position == 0 and line.strip() == "\ufeff"):
            pieces.append(line)
            position += 1
            continue
        number = line.strip().lstrip("\ufeff")
        if not number.isdigit():
            raise FileFormatError(f"after {previous}: expected a cue number, found {number!r}")
        timing = lines[position + 1] if position + 1 < len(lines) else ""
        _check_timing(number, timing.strip())
        pieces.append(line + timing)
        position += 2
        body: list[str] = []
        while position < len(lines) and lines[position].strip():
            body.append(lines[position])
            position += 1
        if body:
            joined = "".join(body)
            content = joined.rstrip("\r\n")
            pieces.append(translator.segment(content, markdown=False))
            pieces.append(joined[len(content) :])
        cues += 1
        previous = f"cue {number}"
    return concat(pieces), cues


def _check_timing(number: str, timing: str) -> None:
    match = _TIMING.match(timing)
    if match is None:
        raise FileFormatError(f"cue {number}: broken timing {timing!r}")
    values = [int(v) for v in match.groups()]
    start = ((values[0] * 60 + values[1]) * 60 + values[2]) * 1000 + values[3]
    end = ((values[4] * 60 + values[5]) * 60 + values[6]) * 1000 + values[7]
    if end < start:
        raise FileFormatError(f"cue {number}: ends ({timing}) before it starts")


# ---- DOCX ---------------------------------------------------------------------------------


def _translate_docx(
    source: Path,
    translator: Translator,
    run: Callable[[SegmentedText], tuple[str, tuple[str, ...]]],
) -> TranslatedData:
    import docx  # python-docx; imported here so text-only use does not need lxml

    from app.translation.docx_text import docx_paragraph

    try:
        document = docx.Document(str(source))
    except Exception as exc:  # python-docx raises assorted errors for broken packages
        raise FileFormatError(f"{source.name}: not a readable DOCX file ({exc})") from exc
    paragraphs = [
        found for p in _docx_paragraphs(document) if (found := docx_paragraph(p)) is not None
    ]
    pieces: list[str | SegmentedText] = []
    for number, paragraph in enumerate(paragraphs):
        if number:
            pieces.append(_SEPARATOR)
        pieces.append(translator.segment(paragraph.text, markdown=False))
    translated, flags = run(concat(pieces))
    for paragraph, text in zip(paragraphs, translated.split(_SEPARATOR), strict=True):
        # Each stretch of text keeps its run's formatting; pictures and fields stay.
        paragraph.apply(text)
    saved = io.BytesIO()
    document.save(saved)
    return TranslatedData(saved.getvalue(), _docx_flags(flags))


def _docx_flags(flags: tuple[str, ...]) -> tuple[str, ...]:
    """The translator's notes on lost markers name our formatting tags; say it plainly."""
    plain = [flag for flag in flags if "hearth-run-" not in flag]
    if len(plain) < len(flags):
        plain.append(
            "the model moved or dropped some inline formatting (bold, italics, links, "
            "pictures): check the formatting of the translated document"
        )
    return tuple(plain)


def _docx_paragraphs(document: Any) -> list[Any]:
    """Body paragraphs, then table cell paragraphs; merged cells repeat, so dedupe."""
    found: list[Any] = list(document.paragraphs)
    seen = {id(p._p) for p in found}
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    if id(paragraph._p) not in seen:
                        seen.add(id(paragraph._p))
                        found.append(paragraph)
    return found
