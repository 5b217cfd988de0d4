"""Reading what can still be read from a damaged SQLite file, with the stdlib sqlite3 module.

SQLite's own recovery (the shell's `.recover`, ext/recover) needs the sqlite_dbpage table,
which Python's sqlite3 builds leave out, and no maintained wheel binds it; the sqlite3 shell
is not on every machine. So the damaged file is read the way SQLite reads any file, on a copy:
- a destroyed file header is written back (storage.sqlite_header), so the pages behind it
  can be reached again;
- each table is read by rowid ranges through its b-tree (never through an index). A range
  that runs into a damaged page keeps the rows read before it, and what is left of it is
  split in halves until the damaged pages are fenced off: every row that SQLite can reach
  is read, at a cost of a few dozen queries per damaged spot.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.sqlite_btree import TABLE_INTERIOR, TABLE_LEAF, BTreePages
from storage.sqlite_header import has_magic, page_size_candidates, write_header

_MIN_ROWID, _MAX_ROWID = -(2**63), 2**63 - 1
_COMPANIONS = ("-wal",)  # a moved-aside file keeps its write-ahead log beside it
# About the most rows one leaf page holds (4 KiB pages, the smallest cells).
_LEAF_SPAN = 1024

Row = tuple[object, ...]


class UnreadableFileError(Exception):
    """Not even the list of tables could be read: there is nothing to recover."""


def _decode(raw: bytes) -> str:
    # A damaged cell may hold bytes that are not UTF-8; keep what can be read of the text.
    return raw.decode("utf-8", errors="replace")


class DamagedFile:
    """A read-only view of a copy of a damaged database. Use as a context manager, or
    call close(). Records whether any read ran into damage (`damaged_tables`)."""

    def __init__(self, copy: Path) -> None:
        self._copy = copy
        self.connection = sqlite3.connect(copy, isolation_level=None, check_same_thread=False)
        self.connection.text_factory = _decode
        # First, before SQLite loads the schema: with a writable schema it keeps the tables
        # it could load when part of the list is damaged (rather than refusing them all),
        # and reads a file cut shorter than its header says. query_only forbids any write.
        self.connection.execute("PRAGMA writable_schema=ON")
        self.connection.execute("PRAGMA query_only=ON")
        # Check each cell against its page before using it: damage reads as an error,
        # rarely as garbage rows.
        self.connection.execute("PRAGMA cell_size_check=ON")
        page_size = int(self.connection.execute("PRAGMA page_size").fetchone()[0])
        self._pages = BTreePages(copy, page_size)
        self.damaged_tables: set[str] = set()
        # name -> root page of each table in the readable part of the list of tables.
        self.roots: dict[str, int] = {}
        schema = self.rows("sqlite_schema", ["type", "name", "rootpage"], root=1)
        for _rowid, kind, name, root in schema:
            if kind == "table" and isinstance(name, str) and isinstance(root, int) and root > 0:
                self.roots[name] = root

    @classmethod
    @contextmanager
    def open_copy(cls, damaged: Path) -> Iterator[DamagedFile]:
        """Copy `damaged` (never touched itself) to a temporary folder and open the copy,
        writing a new file header first when the old one is gone."""
        # Beside the damaged file: its disk holds it already, where /tmp may be a small tmpfs.
        with tempfile.TemporaryDirectory(prefix=".hearth-recovery-", dir=damaged.parent) as folder:
            copy = Path(folder) / "damaged.db"
            shutil.copyfile(damaged, copy)
            for suffix in _COMPANIONS:
                companion = damaged.with_name(damaged.name + suffix)
                if companion.exists():
                    shutil.copyfile(companion, copy.with_name(copy.name + suffix))
            opened = cls._open_readable(copy)
            try:
                yield opened
            finally:
                opened.close()

    @classmethod
    def _open_readable(cls, copy: Path) -> DamagedFile:
        """The copy opened; its header rebuilt first when it is gone (an intact one is
        kept: its page size is SQLite's own record)."""
        if has_magic(copy):
            opened = cls._open(copy)
            if opened is not None:
                return opened
            raise UnreadableFileError("the list of tables in the file could not be read")
        # Rebuild the header at each page size whose page 1 parses, and keep the first at
        # which tables can be read.
        for page_size in page_size_candidates(copy):
            for suffix in ("-wal", "-shm"):  # a log written for other page sizes is useless
                copy.with_name(copy.name + suffix).unlink(missing_ok=True)
            write_header(copy, page_size)
            opened = cls._open(copy)
            if opened is not None:
                return opened
        raise UnreadableFileError("no table of the file could be read")

    @classmethod
    def _open(cls, copy: Path) -> DamagedFile | None:
        """The copy opened, or None when not one table of it can be found."""
        try:
            opened = cls(copy)
        except sqlite3.DatabaseError:
            return None
        if opened.columns():
            return opened
        opened.close()
        return None

    def close(self) -> None:
        self.connection.close()

    def columns(self) -> dict[str, list[str]]:
        """Each table's column names, for the tables SQLite could load from the file."""
        found: dict[str, list[str]] = {}
        for name in self.roots:
            try:
                info = self.connection.execute(f'PRAGMA table_info("{name}")').fetchall()
            except sqlite3.DatabaseError:
                continue
            if info:  # else its definition sits on a damaged page
                found[name] = [str(row[1]) for row in info]
        return found

    def rows(self, table: str, columns: list[str], *, root: int | None = None) -> list[Row]:
        """(rowid, *columns) of every row of `table` that can be read, in rowid order."""
        selected = "".join(f', "{c}"' for c in columns)
        # NOT INDEXED: walk the table's own b-tree; an index could be damaged elsewhere.
        query = (
            f'SELECT rowid{selected} FROM "{table}" NOT INDEXED '
            "WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
        )
        if root is None:
            root = self.roots.get(table, 0)
        found: list[Row] = []
        # (page, lowest and highest rowid it may hold): one query reads a healthy subtree
        # whole; a damaged one is opened up into its children, and those read one by one.
        pending = [(root, _MIN_ROWID, _MAX_ROWID)]
        opened: set[int] = set()  # a damaged page may name itself or an ancestor as child
        while pending:
            page, low, high = pending.pop()
            rows, whole = self._read(query, low, high)
            if whole:
                found += rows
                continue
            self.damaged_tables.add(table)
            kind = self._pages.kind(page)
            if kind == TABLE_INTERIOR and page not in opened:
                opened.add(page)
                pending += reversed(self._pages.children(page, low, high))
            elif kind == TABLE_LEAF:
                found += rows  # those before the damaged cell
                start = int(rows[-1][0]) + 1 if rows else low
                found += self._read_around_damage(query, start, high)
            # Any other page is destroyed: the rows below it are out of reach.
        return found

    def _read(self, query: str, low: int, high: int) -> tuple[list[Row], bool]:
        """The rows from `low` to `high`, and whether they all read (else those before the
        first damaged one)."""
        rows: list[Row] = []
        try:
            for row in self.connection.execute(query, (low, high)):
                rows.append(tuple(row))
        except sqlite3.DatabaseError:
            return rows, False
        return rows, True

    def _read_around_damage(self, query: str, low: int, high: int) -> list[Row]:
        """The readable rows of a damaged leaf page's key range, found by splitting it in
        halves around the cells that do not read. An open end (the table's first or last
        page) is narrowed to the rowids a page can hold next to its known end."""
        if high - low > _LEAF_SPAN:
            if high == _MAX_ROWID and low == _MIN_ROWID:
                return []
            low, high = (low, low + _LEAF_SPAN) if high == _MAX_ROWID else (high - _LEAF_SPAN, high)
        found: list[Row] = []
        pending = [(low, high)]
        while pending:
            low, high = pending.pop()
            rows, whole = self._read(query, low, high)
            found += rows
            if whole:
                continue
            start = int(rows[-1][0]) + 1 if rows else low
            if start < high:
                middle = start + (high - start) // 2
                pending += [(middle + 1, high), (start, middle)]  # low half first
        return found
