"""Every metadata entry of a GGUF header as text, for the model details view: scalars as they
are, long arrays (the vocabulary, merges, scores) summarized by type, length and first items.

The file is validated by `inspect_gguf` first; then the key/value section is walked with the
validator's bounds-checked reader (as gguf_layout does), touching only the header's pages.
No model is loaded. Any thread may call `read_metadata`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gguf import GGUFValueType

from inference.gguf import (  # the validator's bounded reader, on a checked file
    HEADER_SIZE,
    MAX_ARRAY_DEPTH,
    Cursor,
    ModelFileError,
    TruncatedError,
    inspect_gguf,
    map_file,
    read_scalar,
)

SHOWN_ITEMS = 8  # array elements quoted in a summary
MAX_TEXT = 2000  # characters of a long string shown (chat templates can be 10 KB)
_TYPE_NAMES = {
    GGUFValueType.UINT8: "uint8",
    GGUFValueType.INT8: "int8",
    GGUFValueType.UINT16: "uint16",
    GGUFValueType.INT16: "int16",
    GGUFValueType.UINT32: "uint32",
    GGUFValueType.INT32: "int32",
    GGUFValueType.FLOAT32: "float32",
    GGUFValueType.BOOL: "bool",
    GGUFValueType.STRING: "string",
    GGUFValueType.ARRAY: "array",
    GGUFValueType.UINT64: "uint64",
    GGUFValueType.INT64: "int64",
    GGUFValueType.FLOAT64: "float64",
}


@dataclass(frozen=True)
class MetadataItem:
    key: str
    type: str  # "string", "uint32", "array[string] × 262,144", ...
    value: str  # shown text (summarized for long arrays and strings)
    full: str  # the whole value for a tooltip/copy (capped for huge arrays)


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.7g}"  # float32 values printed as float64 grow noise digits
    return repr(value) if isinstance(value, str) else str(value)


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"… ({len(text):,} characters)"


def _read_array(cur: Cursor, depth: int) -> tuple[str, list[str], int]:
    """(element type, first SHOWN_ITEMS items as text, count); walks the whole array."""
    if depth > MAX_ARRAY_DEPTH:
        raise ModelFileError("The model file's metadata nests arrays too deeply.")
    elem = cur.u32()
    count = cur.u64()
    name = _TYPE_NAMES.get(elem)
    if name is None:
        raise ModelFileError(f"The model file uses an unknown metadata type ({elem}).")
    shown: list[str] = []
    if elem == GGUFValueType.ARRAY:
        for i in range(count):
            _, items, n = _read_array(cur, depth + 1)
            if i < SHOWN_ITEMS:
                shown.append(f"[{', '.join(items)}{', …' if n > len(items) else ''}]")
        return name, shown, count
    if elem == GGUFValueType.STRING:
        for i in range(count):
            if i < SHOWN_ITEMS:
                shown.append(repr(cur.string()))
            else:
                cur.skip_string()
        return name, shown, count
    for _ in range(min(count, SHOWN_ITEMS)):
        shown.append(_text(read_scalar(cur, elem)))
    rest = count - min(count, SHOWN_ITEMS)
    size = _ELEMENT_SIZES[elem]
    cur.need(rest * size)
    cur.pos += rest * size
    return name, shown, count


_ELEMENT_SIZES = {
    GGUFValueType.UINT8: 1,
    GGUFValueType.INT8: 1,
    GGUFValueType.BOOL: 1,
    GGUFValueType.UINT16: 2,
    GGUFValueType.INT16: 2,
    GGUFValueType.UINT32: 4,
    GGUFValueType.INT32: 4,
    GGUFValueType.FLOAT32: 4,
    GGUFValueType.UINT64: 8,
    GGUFValueType.INT64: 8,
    GGUFValueType.FLOAT64: 8,
}


def read_metadata(path: Path) -> list[MetadataItem]:
    """All metadata entries in file order. Raises ModelFileError for an unusable file."""
    path = Path(path)
    inspect_gguf(path)
    items: list[MetadataItem] = []
    try:
        with map_file(path) as mm:
            cur = Cursor(mm)
            cur.pos = 16
            n_kv = cur.u64()
            cur.pos = HEADER_SIZE
            for _ in range(n_kv):
                key = cur.string()
                kind = cur.u32()
                if kind == GGUFValueType.ARRAY:
                    elem, shown, count = _read_array(cur, 1)
                    more = ", …" if count > len(shown) else ""
                    listed = f"[{', '.join(shown)}{more}]"
                    items.append(
                        MetadataItem(
                            key, f"array[{elem}] × {count:,}", _shorten(listed), _shorten(listed)
                        )
                    )
                    continue
                value = read_scalar(cur, kind)
                text = _text(value) if not isinstance(value, str) else value
                items.append(MetadataItem(key, _TYPE_NAMES.get(kind, "?"), _shorten(text), text))
    except (TruncatedError, OSError) as exc:  # the file changed since it was validated
        raise ModelFileError(f"The model file could not be read: {path} ({exc})") from None
    return items
