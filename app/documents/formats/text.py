"""Plain text in any common encoding. charset-normalizer guesses from the bytes; a BOM wins."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from app.documents.model import DocumentError

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


def _checked(text: str, name: str) -> str:
    # NUL and other C0 controls are how binary data looks once "decoded".
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text[:65536]) // 100):
        raise DocumentError(f"{name} looks like a binary file, not text.")
    return text.replace("\r\n", "\n").replace("\r", "\n")
