"""Plain text in any common encoding. charset-normalizer guesses from the bytes; a BOM wins.

A file is decoded a block at a time, so a 200 MB file never sits in memory as bytes and as
text at once: the peak is the text plus its pieces (about twice the text), not more.

Mixed encodings: a UTF-8 file with a passage pasted from a Windows-1252 one (the common case:
a few "é" or curly quotes as single bytes) is read as UTF-8 with each stray byte taken as
Windows-1252, so both parts come out right; a guess for the whole file would garble one.
"""

from __future__ import annotations

import codecs
import re
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


# A well-formed UTF-8 sequence of two to four bytes (no overlongs, no surrogates).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_WESTERN = ("cp1252", "latin_1", "iso8859_15", "cp1250", "cp1257", "iso8859_2", "mac_roman")
MIXED_ERRORS = "hearth-utf8-cp1252"


def _cp1252_byte(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler: the first offending byte as Windows-1252 (Latin-1 for the five
    bytes it leaves undefined), then go on decoding UTF-8 after it."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    byte = error.object[error.start : error.start + 1]
    try:
        char = byte.decode("cp1252")
    except UnicodeDecodeError:
        char = byte.decode("latin_1")
    return char, error.start + 1


codecs.register_error(MIXED_ERRORS, _cp1252_byte)


def looks_mixed(data: bytes, guess: str | None) -> bool:
    """True when `data` (not valid UTF-8) is UTF-8 text with stray Windows-1252 bytes: most of
    its non-ASCII bytes form well-formed UTF-8 sequences, or it holds some and the best
    single-encoding guess is a Western one (which would garble every UTF-8 sequence). Text in
    Shift-JIS or Windows-1251 forms such sequences only here and there, by chance."""
    in_sequences = sum(len(m) for m in _UTF8_SEQUENCE.findall(data))
    if not in_sequences:
        return False
    high = len(_HIGH_BYTE.findall(data))
    if in_sequences >= high - in_sequences:
        return True
    return guess is not None and guess.lower().replace("-", "_") in _WESTERN


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
    if looks_mixed(data, best.encoding if best is not None else None):
        return _checked(data.decode("utf-8", MIXED_ERRORS), name)
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
    if looks_mixed(sample, best.encoding if best is not None else None):
        return _decode_blocks(path, "utf-8", MIXED_ERRORS, should_stop)
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
