"""Small checks of untrusted JSON values from another app's export, each failure a
ChatImportError that says where in the file and what is wrong, in the user's words."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from app.chat.importer import (
    MAX_MESSAGE_BYTES,
    MAX_SHORT_TEXT_BYTES,
    ChatImportError,
)
from app.util.untrusted_json import MB, utf8_size

# Times before this are not from a chat app (1990); after it, not yet (2200).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2200, 1, 1, tzinfo=UTC).timestamp()
# A Unix time above this is in milliseconds (LM Studio, Open WebUI's chat.timestamp, Jan):
# in seconds it would be past the year 5000.
MILLISECONDS_ABOVE = 1e11

_KINDS = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return _KINDS.get(type(value), type(value).__name__)


def fail(where: str, problem: str) -> ChatImportError:
    return ChatImportError(f"{where}: {problem}")


def need(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    """`value` when it is of `kind` (bool never counts as a number), else a ChatImportError."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        wanted = " or ".join(
            sorted({kind_of(k()) if k is not type(None) else "null" for k in kinds})
        )
        raise fail(where, f'"{what}" must be {wanted}, not {kind_of(value)}.')
    return value


def field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """obj[key] of `kind`; a missing key reads as null (optional fields say so with NoneType)."""
    return need(obj.get(key), kind, where, key)


def text(value: Any, where: str, what: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    need(value, str, where, what)
    size = utf8_size(value)
    if size is None:
        raise fail(where, f'"{what}" holds characters that are not valid Unicode.')
    if size > limit:
        raise fail(
            where, f'"{what}" is too long ({size / MB:.1f} MB; the limit is {limit / MB:g} MB).'
        )
    return str(value)


def title(value: Any, where: str) -> str:
    """A chat's title: text within the short-text limit, or "" for a missing one."""
    return "" if value is None else text(value, where, "title", MAX_SHORT_TEXT_BYTES).strip()


def moment(value: Any, where: str, what: str) -> datetime | None:
    """A Unix time in seconds or milliseconds (or an ISO 8601 string) → an aware UTC time;
    null → None. A time outside 1990-2200 is refused: no chat was written then."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise fail(where, f'"{what}" is not a date and time ({value[:40]!r}).') from exc
        stamp = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    else:
        stamp = float(need(value, (int, float), where, what))
        if stamp > MILLISECONDS_ABOVE:
            stamp /= 1000
    if not math.isfinite(stamp) or not EARLIEST <= stamp < LATEST:
        raise fail(where, f'"{what}" is not a sane date ({str(value)[:40]}).')
    return datetime.fromtimestamp(stamp, UTC)
