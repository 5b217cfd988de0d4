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

    # ---- leaves cut off from their table (for storage.damaged_file) ---------------------

    @property
    def page_count(self) -> int:
        return self._path.stat().st_size // self._page_size

    def child_pages(self, number: int) -> list[int]:
        """Every page an interior table page points to (no key checks)."""
        return [child for child, _low, _high in self.children(number, -(2**63), 2**63 - 1)]

    def free_pages(self) -> set[int]:
        """Pages on the freelist (header offsets 32 and 36): they may still hold rows that
        were deleted, which must never come back."""
        header = self._page(1)[:HEADER_SIZE]
        trunk = int.from_bytes(header[32:36], "big")
        free: set[int] = set()
        while 1 < trunk <= self.page_count and trunk not in free:
            free.add(trunk)
            page = self._page(trunk)
            count = min(int.from_bytes(page[4:8], "big"), (self._page_size - 8) // 4)
            free.update(int.from_bytes(page[8 + 4 * n : 12 + 4 * n], "big") for n in range(count))
            trunk = int.from_bytes(page[0:4], "big")
        return free

    def leaf_cells(self, number: int) -> list[tuple[int, list[int]]] | None:
        """A table leaf page's cells as (rowid, serial types of its record), or None when
        the page is not a table leaf whose cells all parse."""
        page = self._page(number)
        offset = HEADER_SIZE if number == 1 else 0
        if len(page) != self._page_size or page[offset] != TABLE_LEAF:
            return None
        count = int.from_bytes(page[offset + 3 : offset + 5], "big")
        cells: list[tuple[int, list[int]]] = []
        try:
            for n in range(count):
                pointer = offset + 8 + 2 * n
                cell = int.from_bytes(page[pointer : pointer + 2], "big")
                if not offset + 8 + 2 * count <= cell < self._page_size:
                    return None
                _payload, at = _varint(page, cell)
                rowid, at = _varint(page, at)
                if rowid >= 2**63:
                    rowid -= 2**64
                header_size, end = _varint(page, at)
                types: list[int] = []
                end, stop = end, at + header_size
                while end < stop:
                    serial, end = _varint(page, end)
                    types.append(serial)
                cells.append((rowid, types))
        except IndexError:
            return None
        rowids = [rowid for rowid, _types in cells]
        if not cells or rowids != sorted(set(rowids)):
            return None
        return cells

    def write_interior(self, number: int, children: list[tuple[int, int]]) -> None:
        """Overwrite page `number` (of a copy) with an interior table page over `children`,
        given as (page, highest rowid below it) in rowid order. More children than a page
        holds get interior pages of their own, appended to the file."""
        # A cell: 2-byte pointer, 4-byte page number, a varint key of up to 9 bytes.
        capacity = (self._page_size - 12) // 15
        while len(children) > capacity:
            level: list[tuple[int, int]] = []
            for start in range(0, len(children), capacity):
                group = children[start : start + capacity]
                page = self._append_page()
                self._write_interior_page(page, group)
                level.append((page, group[-1][1]))
            children = level
        self._write_interior_page(number, children)

    def _append_page(self) -> int:
        """A new, empty page at the end of the file; the header's page count follows."""
        number = self.page_count + 1
        with self._path.open("r+b") as file:
            file.seek((number - 1) * self._page_size)
            file.write(bytes(self._page_size))
            file.seek(28)
            file.write(number.to_bytes(4, "big"))
        return number

    def _write_interior_page(self, number: int, children: list[tuple[int, int]]) -> None:
        *cells, (right, _last) = children
        body = b"".join(page.to_bytes(4, "big") + _encode_varint(key) for page, key in cells)
        content_start = self._page_size - len(body)
        header = bytearray(12)
        header[0] = TABLE_INTERIOR
        header[3:5] = len(cells).to_bytes(2, "big")
        header[5:7] = (content_start % 65536).to_bytes(2, "big")
        header[8:12] = right.to_bytes(4, "big")
        pointers, at = bytearray(), content_start
        for _page, key in cells:
            pointers += at.to_bytes(2, "big")
            at += 4 + len(_encode_varint(key))
        data = bytes(header) + bytes(pointers)
        data += bytes(content_start - len(data)) + body
        with self._path.open("r+b") as file:
            file.seek((number - 1) * self._page_size)
            file.write(data)


def _encode_varint(value: int) -> bytes:
    """SQLite's varint for a rowid (the inverse of _varint)."""
    value &= 2**64 - 1
    if value > 0x00FFFFFFFFFFFFFF:
        head, last = value >> 8, value & 0xFF
        groups = [(head >> (7 * n)) & 0x7F for n in range(8)][::-1]
        return bytes(g | 0x80 for g in groups) + bytes([last])
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(value & 0x7F)
        value >>= 7
    groups.reverse()
    return bytes(g | 0x80 for g in groups[:-1]) + bytes([groups[-1]])
