"""Reading a JSON file from elsewhere (a chat export, a preset file): it is untrusted.

One set of guards for every importer: a size limit checked before reading (and again while
reading, for a file that grows), UTF-8 only, strict JSON (no NaN or Infinity, no number too
large for a 64-bit integer or a float), and nesting
too deep for the parser refused instead of crashing it. Each failure is a JsonFileError whose
message says what is wrong in plain words; callers add which file, and their own checks of
the document's shape. No Qt; any thread may call these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MB = 1024 * 1024


class JsonFileError(Exception):
    """The file cannot be read as JSON; the message is for the user."""


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing one larger than `limit` without reading it."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise JsonFileError(_too_big(path, size, limit))
        with path.open("rb") as stream:
            # One byte past the limit: a file that grew after stat() is caught too.
            data = stream.read(limit + 1)
    except FileNotFoundError as exc:
        raise JsonFileError(f"{path}: no such file.") from exc
    except IsADirectoryError as exc:
        raise JsonFileError(f"{path} is a folder, not a file to import.") from exc
    except OSError as exc:
        raise JsonFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if len(data) > limit:
        raise JsonFileError(_too_big(path, len(data), limit))
    return data


def _too_big(path: Path, size: int, limit: int) -> str:
    return f"{path} is too large to import ({size / MB:.0f} MB; the limit is {limit / MB:g} MB)."


def _reject_constant(name: str) -> float:
    raise JsonFileError(f"The file is not valid JSON: it contains {name}, which JSON forbids.")


# SQLite's INTEGER is 64 bits: a larger whole number could not be stored (and Python refuses
# to read one of over 4,300 digits with a ValueError the JSON parser does not wrap).
_LARGEST_INT = 2**63 - 1


def _whole_number(literal: str) -> int:
    if len(literal.lstrip("-")) > 19 or abs(value := int(literal)) > _LARGEST_INT:
        raise JsonFileError(
            f"The file holds a number too large to use ({literal[:20]}… has "
            f"{len(literal.lstrip('-'))} digits)."
        )
    return value


def _finite_number(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):  # 1e400: too large for a float
        raise JsonFileError(f"The file holds a number too large to use ({literal[:20]}).")
    return value


def parse(data: bytes) -> Any:
    """Bytes → the JSON value, with every failure as a JsonFileError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonFileError(
            f"The file is not UTF-8 text (invalid byte at position {exc.start})."
        ) from exc
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_whole_number,
            parse_float=_finite_number,
        )
    except json.JSONDecodeError as exc:
        raise JsonFileError(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except RecursionError as exc:
        # Python's parser recurses per nesting level; a hostile file can nest millions deep.
        raise JsonFileError("The file nests lists or objects too deeply to be read.") from exc


def utf8_size(value: str) -> int | None:
    """Bytes `value` takes as UTF-8; None when it holds a lone surrogate such as "\\ud800"
    (valid in JSON text, not in Unicode)."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return None
