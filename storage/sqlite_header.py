"""SQLite's 100-byte file header: telling whether it is intact, and writing a plausible one
back onto a copy whose header was overwritten, so that SQLite can read the pages behind it.

The layout is SQLite's documented file format (https://sqlite.org/fileformat2.html, 1.3).
Only what a read needs is rebuilt: the page size, found by trying each size SQLite allows
and keeping those at which page 1 holds a well-formed b-tree page header; the freelist is
left empty (it is never read when rows are only read).
"""

from __future__ import annotations

from pathlib import Path

MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
# Hearth never changes SQLite's default page size; try it first.
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)

_TABLE_LEAF, _TABLE_INTERIOR = 0x0D, 0x05
_SQLITE_VERSION_NUMBER = 3_040_001  # any valid version; SQLite only records it


def has_magic(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(MAGIC)) == MAGIC


def _page_one_fits(page: bytes, page_size: int) -> bool:
    """Whether page 1 (sqlite_schema's root, a table b-tree page after the file header)
    has a b-tree page header whose cells all lie inside a page of `page_size` bytes."""
    if len(page) < page_size:
        return False
    kind = page[HEADER_SIZE]
    if kind not in (_TABLE_LEAF, _TABLE_INTERIOR):
        return False
    header_end = HEADER_SIZE + (12 if kind == _TABLE_INTERIOR else 8)
    cells = int.from_bytes(page[HEADER_SIZE + 3 : HEADER_SIZE + 5], "big")
    content = int.from_bytes(page[HEADER_SIZE + 5 : HEADER_SIZE + 7], "big") or 65536
    pointers_end = header_end + 2 * cells
    if pointers_end > content or content > page_size:
        return False
    for n in range(cells):
        at = int.from_bytes(page[header_end + 2 * n : header_end + 2 * n + 2], "big")
        if not content <= at < page_size:
            return False
    if kind == _TABLE_INTERIOR:
        # The right-most child is a page number; page 1 can never be its own child.
        right = int.from_bytes(page[HEADER_SIZE + 8 : HEADER_SIZE + 12], "big")
        if right < 2:
            return False
    return True


def page_size_candidates(path: Path) -> list[int]:
    """Page sizes at which the file's page 1 looks like SQLite wrote it, likeliest first
    (sizes that divide the file's length before those that do not)."""
    length = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(max(PAGE_SIZES))
    fitting = [size for size in PAGE_SIZES if _page_one_fits(head, size)]
    return sorted(fitting, key=lambda size: length % size != 0)


def header(page_size: int, page_count: int) -> bytes:
    """A header for a database of `page_count` pages of `page_size` bytes, in rollback
    journal mode (the copy is read without its write-ahead log), UTF-8, no reserved bytes."""
    data = bytearray(HEADER_SIZE)
    data[0:16] = MAGIC
    data[16:18] = (1 if page_size == 65536 else page_size).to_bytes(2, "big")
    data[18] = data[19] = 1  # file format read/write version 1: rollback journal
    data[21], data[22], data[23] = 64, 32, 32  # payload fractions, fixed by the format
    data[24:28] = (1).to_bytes(4, "big")  # change counter...
    data[92:96] = (1).to_bytes(4, "big")  # ...matched here, so the page count is believed
    data[28:32] = page_count.to_bytes(4, "big")
    data[40:44] = (1).to_bytes(4, "big")  # schema cookie
    data[44:48] = (4).to_bytes(4, "big")  # schema format 4, what SQLite writes since 3.3
    data[56:60] = (1).to_bytes(4, "big")  # text encoding: UTF-8
    data[96:100] = _SQLITE_VERSION_NUMBER.to_bytes(4, "big")
    return bytes(data)


def write_header(path: Path, page_size: int) -> None:
    """Overwrite the first 100 bytes of `path` (a copy, never the user's file)."""
    page_count = max(1, path.stat().st_size // page_size)
    with path.open("r+b") as file:
        file.write(header(page_size, page_count))


# ---- b-tree pages, read straight from the file ---------------------------------------------

TABLE_LEAF, TABLE_INTERIOR = _TABLE_LEAF, _TABLE_INTERIOR


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
        if len(page) != self._page_size or page[offset] != _TABLE_INTERIOR:
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
