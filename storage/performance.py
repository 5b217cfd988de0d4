"""Every finished reply's figures in one query, for the Performance page (issue 12).

The figures are the reply's StatsRecord (table generation_stats, the one source of truth for
the stats line too) with its chat's title and the reply's date; facts only a trace holds
(quantization, the GPU layers actually used, …) are read from its phases by the names the
caller gives, in SQL (json_extract), so 10,000 replies never cost 10,000 JSON parses in
Python. Replies of chats in the trash are left out. A reply whose stats hold a value of the
wrong type (a damaged file) is left out too; one whose trace is damaged shows without phases.

Cost: one pass over generation_stats with primary-key lookups into messages, conversations
and message_traces, and a sort (SQLite's plan: SCAN s, SEARCH m, c and t by primary key, a
temporary B-tree for ORDER BY). bench/performance_query.py measures it on 10,000 replies:
the first page of 100 rows ~20 ms, count() ~9, models() ~5, speed_points() ~15, all 10,000
rows as records ~100 (2 busy cores). No index: one on messages.created_at took the first
page by date from ~18 to ~7 ms and would help no other sort, for a cost on every message
written; not worth it at this size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    case,
    func,
    literal,
    select,
    type_coerce,
)

from storage.models import UNREADABLE_TIME, Conversation, GenerationStats, Message, MessageTrace
from storage.records import PerformanceRow, PhaseValue, SpeedPoints, StatsRecord
from storage.text_fold import CASEFOLD_FUNCTION
from storage.traces import TRACE_FORMAT

if TYPE_CHECKING:
    from storage.database import Database

_STATS_TABLE, _MESSAGE_TABLE = GenerationStats.__table__, Message.__table__
_CHAT_TABLE, _TRACE_TABLE = Conversation.__table__, MessageTrace.__table__
_STATS, _MESSAGES, _CHATS, _TRACES = (
    _STATS_TABLE.c,
    _MESSAGE_TABLE.c,
    _CHAT_TABLE.c,
    _TRACE_TABLE.c,
)

STATS_FIELDS = tuple(f.name for f in fields(StatsRecord))
#: What replies() sorts by besides the phases asked for: every StatsRecord field, and these.
SORT_KEYS = frozenset({*STATS_FIELDS, "date", "title", "depth_at_start"})

# SQLite keeps any value in any column: a damaged file's row must not reach the page as text
# where a number is formatted. typeof() in SQL costs nothing next to checks in Python.
_SQL_TYPES = {"int": ("integer",), "float": ("real", "integer"), "str": ("text",)}
_PHASE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SCALAR_JSON_TYPES = ("integer", "real", "text", "true", "false")
_IDS_PER_QUERY = 500  # well under SQLite's limit on bound parameters


def _typed_stats() -> ColumnElement[bool]:
    return and_(
        *(func.typeof(_STATS[f.name]).in_(_SQL_TYPES[str(f.type)]) for f in fields(StatsRecord))
    )


def _phase(key: str) -> ColumnElement[Any]:
    """The trace's phase `key` when the trace is readable and the value a scalar, else NULL
    (true and false read as 1 and 0). Nested CASEs: SQLite evaluates a branch only when its
    condition holds, and json_type fails on text that is not JSON."""
    if not _PHASE_KEY.match(key):
        raise ValueError(f"not a phase name: {key!r}")
    path = literal(f'$."{key}"')
    readable = and_(
        _TRACES.format == TRACE_FORMAT,
        func.typeof(_TRACES.phases_json) == "text",
        func.json_valid(_TRACES.phases_json) == 1,
    )
    scalar = case(
        (
            func.json_type(_TRACES.phases_json, path).in_(_SCALAR_JSON_TYPES),
            func.json_extract(_TRACES.phases_json, path),
        )
    )
    return case((readable, scalar))


def _sort_column(key: str, phases: dict[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    if key in phases:
        return phases[key]
    if key not in SORT_KEYS:
        raise ValueError(f"cannot sort by {key!r}")
    if key == "date":
        return _MESSAGES.created_at
    if key == "title":
        # Case folded in any script, then code point order (no locale in SQLite).
        return getattr(func, CASEFOLD_FUNCTION)(_CHATS.title)
    if key == "depth_at_start":  # PerformanceRow.depth_at_start: the whole prompt
        return _STATS.prompt_tokens
    return _STATS[key]


def _phases(names: tuple[str, ...], values: Sequence[Any]) -> dict[str, PhaseValue]:
    # json_extract turns 1e999 into an infinite REAL: left out like a missing value.
    return {
        name: value
        for name, value in zip(names, values, strict=True)
        if value is not None and not (isinstance(value, float) and not math.isfinite(value))
    }


def _utc(value: object) -> datetime:
    """A stored timestamp (naive UTC text) as an aware datetime; fromisoformat is C, ~10x
    faster than the column type's parsing, which matters at 10,000 rows."""
    try:
        parsed = datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return UNREADABLE_TIME
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _page_phases(
    connection: Connection, ids: list[int], phases: dict[str, ColumnElement[Any]]
) -> dict[int, Sequence[Any]]:
    """The phases of the replies `ids`, by id (those without a trace are absent)."""
    found: dict[int, Sequence[Any]] = {}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        query = select(_TRACES.message_id, *phases.values()).where(
            _TRACES.message_id.in_(ids[start : start + _IDS_PER_QUERY])
        )
        found.update((row[0], row[1:]) for row in connection.execute(query))
    return found


@dataclass(frozen=True)
class PerformanceFilter:
    """Which replies the Performance page lists; the default lists every one."""

    model: str | None = None  # its exact name (PerformanceRepository.models())
    since: datetime | None = None  # asked for at or after
    until: datetime | None = None  # asked for before
    title_contains: str = ""  # in the chat's title, ignoring case in any script


def _where(which: PerformanceFilter) -> list[ColumnElement[bool]]:
    clauses = [_CHATS.deleted_at.is_(None), _typed_stats()]
    if which.model is not None:
        clauses.append(_STATS.model == which.model)
    if which.since is not None:
        clauses.append(_MESSAGES.created_at >= which.since)
    if which.until is not None:
        clauses.append(_MESSAGES.created_at < which.until)
    if which.title_contains.strip():
        needle = which.title_contains.strip().casefold()
        clauses.append(func.instr(getattr(func, CASEFOLD_FUNCTION)(_CHATS.title), needle) > 0)
    return clauses


_EVERY_REPLY = PerformanceFilter()


def _joined(*columns: ColumnElement[Any]) -> Select[Any]:
    return (
        select(*columns)
        .select_from(_STATS_TABLE)
        .join(_MESSAGE_TABLE, _MESSAGES.id == _STATS.message_id)
        .join(_CHAT_TABLE, _CHATS.id == _MESSAGES.conversation_id)
    )


class PerformanceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def replies(
        self,
        which: PerformanceFilter = _EVERY_REPLY,
        *,
        phase_keys: Sequence[str] = (),
        sort: str = "date",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[PerformanceRow]:
        """The replies `which` names with their figures, sorted by `sort` (a SORT_KEYS name
        or one of `phase_keys`; replies without that value last), then by id the same way;
        `limit` of them from `offset` on (a page: the first paint needs only the rows in
        view, and SQLite sorts 10,000 for it in a few ms).

        ValueError for a sort key or phase name it does not know.
        """
        phases = {key: _phase(key) for key in dict.fromkeys(phase_keys)}
        sort_by = _sort_column(sort, phases)
        order = sort_by.desc() if descending else sort_by.asc()
        # A phase is read from the trace's JSON row by row, before the sort: for a page, only
        # the sort's phase is read for every reply, the others for the page's rows after
        # (10,000 replies x 5 phases took ~100 ms where the page alone takes ~20).
        later = bool(phases) and limit is not None
        listed = {} if later else phases
        query = (
            _joined(
                _MESSAGES.id,
                _MESSAGES.conversation_id,
                _CHATS.title,
                type_coerce(_MESSAGES.created_at, Text),  # parsed by _utc, below
                *(_STATS[name] for name in STATS_FIELDS),
                *listed.values(),
            )
            .where(*_where(which))
            .order_by(order.nulls_last(), _MESSAGES.id.desc() if descending else _MESSAGES.id)
            .offset(offset)
        )
        if listed or sort in phases:
            query = query.outerjoin(_TRACE_TABLE, _TRACES.message_id == _STATS.message_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.session() as session:
            rows = session.connection().execute(query).all()
            if later:
                found = _page_phases(session.connection(), [row[0] for row in rows], phases)
        names, n = tuple(phases), len(STATS_FIELDS)
        missing = (None,) * len(names)
        return [
            PerformanceRow(
                message_id=row[0],
                conversation_id=row[1],
                title=row[2] if isinstance(row[2], str) else "",
                created_at=_utc(row[3]),
                stats=StatsRecord(*row[4 : 4 + n]),
                phases=(
                    {}
                    if not names
                    else _phases(names, found.get(row[0], missing) if later else row[4 + n :])
                ),
            )
            for row in rows
        ]

    def speed_points(self, which: PerformanceFilter = _EVERY_REPLY) -> SpeedPoints:
        """The plotted figures of every reply `which` names, by column: plain values, no
        record per reply (10,000 replies in ~15 ms where replies() takes ~100)."""
        columns = [f.name for f in fields(SpeedPoints)]
        query = (
            _joined(_STATS.message_id, *(_STATS[name] for name in columns[1:]))
            .where(*_where(which))
            .order_by(_STATS.message_id)
        )
        with self._db.session() as session:
            rows = session.connection().execute(query).all()
        if not rows:
            return SpeedPoints()
        return SpeedPoints(*(tuple(column) for column in zip(*rows, strict=True)))

    def count(self, which: PerformanceFilter = _EVERY_REPLY) -> int:
        """How many replies replies(which) lists in all (the table's row count)."""
        query = _joined(func.count()).where(*_where(which))
        with self._db.session() as session:
            return int(session.connection().execute(query).scalar_one())

    def models(self) -> list[str]:
        """The models that wrote the replies replies() lists, by name: the page's filter."""
        query = (
            _joined(_STATS.model)
            .distinct()
            .where(_CHATS.deleted_at.is_(None), func.typeof(_STATS.model) == "text")
            .order_by(_STATS.model)
        )
        with self._db.session() as session:
            return list(session.connection().execute(query).scalars())
