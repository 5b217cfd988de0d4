"""Plain text in any common encoding. charset-normalizer guesses from the bytes; a BOM wins.

A file is decoded a block at a time, so a 200 MB file never sits in memory as bytes and as
text at once: the peak is the text plus its pieces (about twice the text), not more.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

from charset_normalizer import from_bytes

from app.documents.model import DocumentError

BLOCK_BYTES = 4 << 20
# Up to this size a non-UTF-8 file is guessed from all its bytes; above, from a sample.
GUESS_WHOLE_BYTES = 8 << 20
GUESS_SAMPLE_BYTES = 2 << 20

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_PREFERRED = ("cp1252", "latin_1", "iso8859_15", "shift_jis", "cp932", "gb18030", "big5")


def decode_text(data: bytes, name: str) -> str:
    """Bytes to str, or DocumentError when the bytes are not text in any encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        # Most files are UTF-8; strict decoding is certain where a guess is not.
        return _checked(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise DocumentError(f"{name} does not look like text (no known encoding fits it).")
    # Equally good guesses (cp1250/cp1252/cp1257 often tie on Western text): take the one
    # most files in the wild use.
    ties = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    for preferred in _PREFERRED:
        for match in ties:
            if match.encoding == preferred:
                return _checked(str(match), name)
    return _checked(str(best), name)


def read_text_file(path: Path, should_stop: Callable[[], bool] | None = None) -> str:
    """The text of `path`; DocumentError when it is not text. `should_stop` is checked
    between blocks (a DocumentError says the reading was stopped)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return _decode_blocks(path, encoding, "strict", should_stop)
    try:
        return _decode_blocks(path, "utf-8", "strict", should_stop)
    except UnicodeDecodeError:
        pass
    if path.stat().st_size <= GUESS_WHOLE_BYTES:
        return decode_text(path.read_bytes(), path.name)
    # A huge file in a legacy encoding: guess from its start and middle, then decode it all
    # that way; a stray byte of another encoding becomes U+FFFD instead of failing the file.
    with path.open("rb") as handle:
        sample = handle.read(GUESS_SAMPLE_BYTES)
        handle.seek(path.stat().st_size // 2)
        sample += handle.read(GUESS_SAMPLE_BYTES)
    best = from_bytes(sample).best()
    if best is None:
        raise DocumentError(f"{path.name} does not look like text (no known encoding fits it).")
    return _decode_blocks(path, best.encoding, "replace", should_stop)


def _decode_blocks(
    path: Path, encoding: str, errors: str, should_stop: Callable[[], bool] | None
) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    pieces: list[str] = []
    carry = ""  # a "\r" at the end of a block may be the first half of "\r\n"
    with path.open("rb") as handle:
        while True:
            if should_stop is not None and should_stop():
                raise DocumentError(f"Reading {path.name} was stopped.")
            block = handle.read(BLOCK_BYTES)
            piece = carry + decoder.decode(block, final=not block)
            carry = ""
            if block and piece.endswith("\r"):
                piece, carry = piece[:-1], "\r"
            if not pieces:
                _check_not_binary(piece, path.name)
            pieces.append(piece.replace("\r\n", "\n").replace("\r", "\n"))
            if not block:
                break
    text = "".join(pieces)
    pieces.clear()
    return text


def _check_not_binary(text: str, name: str) -> None:
    # NUL and other C0 controls are how binary data looks once "decoded".
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text[:65536]) // 100):
        raise DocumentError(f"{name} looks like a binary file, not text.")


def _checked(text: str, name: str) -> str:
    _check_not_binary(text, name)
    return text.replace("\r\n", "\n").replace("\r", "\n")
