"""Table b-tree pages of an SQLite file read with plain file reads (the layout is SQLite's
documented file format, https://sqlite.org/fileformat2.html, 1.6), for recovery: where SQLite
stops at a damaged page, the pages below its parent can still be reached."""

from __future__ import annotations

from pathlib import Path

from storage.sqlite_header import HEADER_SIZE, TABLE_INTERIOR, TABLE_LEAF

__all__ = ["TABLE_INTERIOR", "TABLE_LEAF", "BTreePages"]


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `at`: (value, offset after it)."""
    value = 0
    for n in range(9):
        byte = data[at + n]
        if n == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + n + 1
    raise AssertionError("unreachable")


class BTreePages:
    """Table b-tree pages of a database file, read with plain file reads: where SQLite
    stops at a damaged page, the pages below its parent can still be reached."""

    def __init__(self, path: Path, page_size: int) -> None:
        self._path = path
        self._page_size = page_size

    def _page(self, number: int) -> bytes:
        if number < 1:
            return b""
        with self._path.open("rb") as file:
            file.seek((number - 1) * self._page_size)
            return file.read(self._page_size)

    def kind(self, number: int) -> int | None:
        """The page's b-tree type byte, or None when it is missing."""
        page = self._page(number)
        offset = HEADER_SIZE if number == 1 else 0
        return page[offset] if len(page) == self._page_size else None

    def children(self, number: int, low: int, high: int) -> list[tuple[int, int, int]]:
        """An interior table page's children as (page, lowest rowid, highest rowid), left
        to right, within the parent's own `low`..`high`; cells that do not parse are left
        out (their rows are then out of reach)."""
        page = self._page(number)
        offset = HEADER_SIZE if number == 1 else 0
        if len(page) != self._page_size or page[offset] != TABLE_INTERIOR:
            return []
        count = int.from_bytes(page[offset + 3 : offset + 5], "big")
        found: list[tuple[int, int, int]] = []
        previous = low - 1
        try:
            for n in range(count):
                pointer = offset + 12 + 2 * n
                cell = int.from_bytes(page[pointer : pointer + 2], "big")
                child = int.from_bytes(page[cell : cell + 4], "big")
                key, _ = _varint(page, cell + 4)
                if key >= 2**63:
                    key -= 2**64  # rowids are signed
                key = min(key, high)
                if key > previous:
                    found.append((child, previous + 1, key))
                    previous = key
        except IndexError:
            pass  # a cell pointer past the page: keep the children read so far
        right = int.from_bytes(page[offset + 8 : offset + 12], "big")
        if previous < high:
            found.append((right, previous + 1, high))
        return found
