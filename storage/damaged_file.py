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

import logging
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.errors import UnreadableFileError
from storage.sqlite_btree import TABLE_INTERIOR, TABLE_LEAF, BTreePages
from storage.sqlite_header import has_magic, page_size_candidates, write_header

_MIN_ROWID, _MAX_ROWID = -(2**63), 2**63 - 1
_COMPANIONS = ("-wal",)  # a moved-aside file keeps its write-ahead log beside it
# About the most rows one leaf page holds (4 KiB pages, the smallest cells).
_LEAF_SPAN = 1024

Row = tuple[object, ...]
log = logging.getLogger(__name__)


def _decode(raw: bytes) -> str:
    # A damaged cell may hold bytes that are not UTF-8; keep what can be read of the text.
    return raw.decode("utf-8", errors="replace")


class DamagedFile:
    """A read-only view of a copy of a damaged database. Use as a context manager, or
    call close(). Records whether any read ran into damage (`damaged_tables`)."""

    def __init__(self, copy: Path) -> None:
        self._copy = copy
        self.connection = self._connect()
        page_size = int(self.connection.execute("PRAGMA page_size").fetchone()[0])
        self._pages = BTreePages(copy, page_size)
        self.damaged_tables: set[str] = set()
        # Table leaf pages that no intact page leads to: page -> its cells (found once).
        self._loose: dict[int, list[tuple[int, list[int]]]] | None = None
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

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._copy, isolation_level=None, check_same_thread=False)
        connection.text_factory = _decode
        # First, before SQLite loads the schema: with a writable schema it keeps the tables
        # it could load when part of the list is damaged (rather than refusing them all),
        # and reads a file cut shorter than its header says. query_only forbids any write.
        connection.execute("PRAGMA writable_schema=ON")
        connection.execute("PRAGMA query_only=ON")
        # Check each cell against its page before using it: damage reads as an error,
        # rarely as garbage rows.
        connection.execute("PRAGMA cell_size_check=ON")
        return connection

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
            elif kind is not None and self._adopt(table, page, low, high):
                # A destroyed interior page, now rebuilt over the leaves it had: read again
                # (it is an interior page now, so this happens once).
                pending.append((page, low, high))
            # Else the rows below the destroyed page are out of reach.
        return found

    def _adopt(self, table: str, page: int, low: int, high: int) -> bool:
        """Rebuild destroyed page `page` of `table` (on the copy) as an interior page over
        the leaves no intact page leads to any longer: those whose rowids lie in its range
        and whose records have the table's shape. Returns whether any were found."""
        if page == 1:  # the list of tables, behind the file header: never rewritten
            return False
        try:
            columns = self.connection.execute(f'PRAGMA table_info("{table}")').fetchall()
        except sqlite3.DatabaseError:
            return False
        if not columns:
            return False
        loose = self._loose_leaves()
        candidates = sorted(
            (cells[0][0], cells[-1][0], number)
            for number, cells in loose.items()
            if low <= cells[0][0]
            and cells[-1][0] <= high
            and all(_fits(types, columns) for _rowid, types in cells)
        )
        kept: list[tuple[int, int]] = []
        last_rowid = low - 1
        for first, last, number in candidates:
            if first > last_rowid:  # two leaves claiming the same rowids: keep the first
                kept.append((number, last))
                last_rowid = last
        if not kept:
            return False
        for number, _last in kept:
            del loose[number]
        self._pages.write_interior(page, kept)
        self.connection.close()  # its page cache still holds the destroyed page
        self.connection = self._connect()
        log.info("Found %d lost leaf pages of %s below page %d", len(kept), table, page)
        return True

    def _loose_leaves(self) -> dict[int, list[tuple[int, list[int]]]]:
        if self._loose is None:
            reachable = {1}
            pending = [1, *self.roots.values()]
            while pending:
                number = pending.pop()
                reachable.add(number)
                if self._pages.kind(number) == TABLE_INTERIOR:
                    pending += [c for c in self._pages.child_pages(number) if c not in reachable]
            skip = reachable | self._pages.free_pages()
            self._loose = {}
            for number in range(2, self._pages.page_count + 1):
                if number not in skip:
                    cells = self._pages.leaf_cells(number)
                    if cells is not None:
                        self._loose[number] = cells
        return self._loose

    def _read(self, query: str, low: int, high: int) -> tuple[list[Row], bool]:
        """The rows from `low` to `high`, and whether they all read (else those before the
        first damaged one)."""
        rows: list[Row] = []
        if low == high:
            # One rowid: SQLite seeks it and stops, where a range steps on to the next row
            # (and the cursor, which fetches a row ahead, would lose this one to an error
            # on the next).
            query = query.replace("rowid BETWEEN ? AND ?", "rowid = ?")
        try:
            for row in self.connection.execute(query, (low,) if low == high else (low, high)):
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
            elif start == high and rows:
                pending.append((start, start))  # a lone rowid reads by itself
        return found


def _affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (https://sqlite.org/datatype3.html 3.1)."""
    declared = declared.upper()
    if "INT" in declared:
        return "integer"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in declared or not declared:
        return "blob"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "real"
    return "numeric"


_STORED_AS = {
    "integer": {"int"},
    "text": {"text"},
    "real": {"real", "int"},
    "numeric": {"int", "real", "text"},
    "blob": {"int", "real", "text", "blob"},
}


def _stored_class(serial: int) -> str | None:
    if serial == 0:
        return "null"
    if 1 <= serial <= 6 or serial in (8, 9):
        return "int"
    if serial == 7:
        return "real"
    if serial >= 12:
        return "blob" if serial % 2 == 0 else "text"
    return None  # 10 and 11 are reserved: not a record SQLite wrote


def _fits(types: list[int], columns: list[tuple[object, ...]]) -> bool:
    """Whether a record with these serial types can be a row of a table with these
    columns (PRAGMA table_info rows: cid, name, type, notnull, default, pk)."""
    if not types or len(types) > len(columns):
        return False
    keys = [c for c in columns if c[5]]
    alias = keys[0][0] if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER" else None
    for (cid, _name, declared, notnull, _default, _pk), serial in zip(columns, types, strict=False):
        stored = _stored_class(serial)
        if stored is None:
            return False
        if cid == alias:  # the rowid itself; the record holds NULL in its place
            if stored != "null":
                return False
        elif stored == "null":
            if notnull:
                return False
        elif stored not in _STORED_AS[_affinity(str(declared))]:
            return False
    # Columns past the record's end were added later: they need a default or NULL.
    return all(not c[3] or c[4] is not None for c in columns[len(types) :])
