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

TABLE_LEAF, TABLE_INTERIOR = 0x0D, 0x05  # b-tree page types
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
    if kind not in (TABLE_LEAF, TABLE_INTERIOR):
        return False
    header_end = HEADER_SIZE + (12 if kind == TABLE_INTERIOR else 8)
    cells = int.from_bytes(page[HEADER_SIZE + 3 : HEADER_SIZE + 5], "big")
    content = int.from_bytes(page[HEADER_SIZE + 5 : HEADER_SIZE + 7], "big") or 65536
    pointers_end = header_end + 2 * cells
    if pointers_end > content or content > page_size:
        return False
    for n in range(cells):
        at = int.from_bytes(page[header_end + 2 * n : header_end + 2 * n + 2], "big")
        if not content <= at < page_size:
            return False
    if kind == TABLE_INTERIOR:
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
