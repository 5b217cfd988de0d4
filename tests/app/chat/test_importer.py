"""Importing Hearth JSON: a lossless round trip, and hostile files that import nothing."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import storage.bulk_import
from app.chat.importer import MAX_FILE_BYTES, ChatImportError, import_bytes, import_file
from app.config.paths import resolve_paths
from app.entry import main
from app.gui.chat.export import export_chats
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import DatabaseError
from storage.records import MessageStatus, Role, TitleSource
from tests.support.chat_samples import (
    ANSWER,
    QUESTION,
    SAMPLING,
    STATS,
    SYSTEM_PROMPT,
    Sample,
    build_sample,
    open_database,
)

Document = dict[str, Any]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "source" / "hearth.db")
    yield database
    database.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "target" / "hearth.db")
    yield database
    database.close()


@pytest.fixture
def sample(source: Database) -> Sample:
    return build_sample(source)


def _export(db: Database, path: Path) -> Document:
    export_chats(db, path, "json")
    document: Document = json.loads(path.read_text(encoding="utf-8"))
    return document


def _without_ids(document: Document) -> Document:
    """The document with ids replaced by their rank within the conversation: new ids differ,
    the order among them (which decides the newest version) must not."""
    result = copy.deepcopy(document)
    del result["exported_at"]
    for chat in result["conversations"]:
        rank = {m["id"]: n for n, m in enumerate(sorted(chat["messages"], key=lambda m: m["id"]))}
        for message in chat["messages"]:
            message["id"] = rank[message["id"]]
            if message["parent_id"] is not None:
                message["parent_id"] = rank[message["parent_id"]]
            message["outside_view"] = [rank[i] for i in message["outside_view"]]
        chat["messages"].sort(key=lambda m: m["id"])
        chat["shown_path"] = [rank[i] for i in chat["shown_path"]]
    return result


def _rows(db: Database) -> tuple[int, int, int]:
    with db.session() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("conversations", "messages", "generation_stats")
        )


# ---- round trip ----------------------------------------------------------------------------


def test_round_trip_keeps_every_field_but_the_ids(
    source: Database, target: Database, sample: Sample, tmp_path: Path
) -> None:
    first = _export(source, tmp_path / "first.json")
    # Something already in the target: the import adds to it and leaves it alone.
    existing = ConversationRepository(target).create("Already here")
    MessageRepository(target).add(existing.id, Role.USER, "keep me")

    summary = import_file(target, tmp_path / "first.json")
    assert (len(summary.conversation_ids), summary.messages, summary.damaged) == (2, 8, 0)
    assert existing.id not in summary.conversation_ids

    second = _export(target, tmp_path / "second.json")
    titles = [c["title"] for c in second["conversations"]]
    assert "Already here" in titles
    second["conversations"] = [c for c in second["conversations"] if c["title"] != "Already here"]
    assert _without_ids(second) == _without_ids(first)
    # Ids really are new (the target had used id 1 already).
    assert {m["id"] for c in second["conversations"] for m in c["messages"]} != {
        m["id"] for c in first["conversations"] for m in c["messages"]
    }


def test_imported_chat_shows_the_same_branch_and_versions(
    source: Database, target: Database, sample: Sample
) -> None:
    data = _dump(source)
    [main_id, _other] = import_bytes(target, data).conversation_ids
    before = MessageRepository(source).active_path(sample.main_id)
    after = MessageRepository(target).active_path(main_id)
    shown = [
        (m.role, m.content, m.status, m.error, m.stats, m.version, m.version_count) for m in after
    ]
    assert shown == [
        (m.role, m.content, m.status, m.error, m.stats, m.version, m.version_count) for m in before
    ]
    assert after[1].stats == STATS and after[1].version_count == 2 and after[1].version == 1
    chat = ConversationRepository(target).get(main_id)
    assert chat is not None and chat.pinned and chat.system_prompt == SYSTEM_PROMPT
    assert chat.sampling == SAMPLING and chat.title_source == TitleSource.AUTO
    other = ConversationRepository(target).get(_other)
    assert other is not None and other.title_source == TitleSource.USER
    # The marker of what the model could not see points at the imported messages.
    views = MessageRepository(target).outside_views(main_id)
    [(reply_id, outside)] = views.items()
    reply = MessageRepository(target).get(reply_id)
    assert reply is not None and reply.status == MessageStatus.ERROR
    assert {m.content for m in MessageRepository(target).get_many(sorted(outside))} == {
        QUESTION,
        ANSWER,
    }


def _dump(db: Database) -> bytes:
    from app.gui.chat.export import collect, json_document

    return json_document(collect(db)).encode("utf-8")


def _minimal(**message: Any) -> Document:
    base = {
        "id": 1,
        "parent_id": None,
        "role": "user",
        "content": "hi",
        "status": "complete",
        "created_at": "2025-01-02T03:04:05+00:00",
        "updated_at": "2025-01-02T03:04:05+00:00",
    }
    base.update(message)
    return {
        "format": "hearth-chat",
        "version": 1,
        "conversations": [
            {
                "title": "Minimal",
                "created_at": "2025-01-02T03:04:05+00:00",
                "updated_at": "2025-01-02T03:04:05+00:00",
                "messages": [base],
            }
        ],
    }


def test_unknown_role_or_status_is_kept_and_shown_damaged(target: Database) -> None:
    document = _minimal(role="narrator")
    document["conversations"][0]["messages"].append(
        {**document["conversations"][0]["messages"][0], "id": 2, "parent_id": 1,
         "role": "assistant", "status": "thinking", "content": "from a newer Hearth"}
    )  # fmt: skip
    summary = import_bytes(target, json.dumps(document).encode())
    assert summary.damaged == 2
    path = MessageRepository(target).active_path(summary.conversation_ids[0])
    assert [(m.status, m.content) for m in path] == [
        (MessageStatus.DAMAGED, "hi"),
        (MessageStatus.DAMAGED, "from a newer Hearth"),
    ]


def test_streaming_imports_as_interrupted_and_optional_fields_default(target: Database) -> None:
    summary = import_bytes(target, json.dumps(_minimal(status="streaming")).encode())
    chat = ConversationRepository(target).get(summary.conversation_ids[0])
    assert chat is not None and chat.pinned is False and chat.system_prompt is None
    [message] = MessageRepository(target).active_path(chat.id)
    assert message.status is MessageStatus.INTERRUPTED and message.error is None


# ---- hostile and malformed files -----------------------------------------------------------


def _deep(levels: int) -> bytes:
    return b'{"format": "hearth-chat", "version": 1, "conversations": ' + (
        b"[" * levels + b"]" * levels + b"}"
    )


def _edit(change: Callable[[Document], Any]) -> bytes:
    document = _minimal()
    change(document)
    return json.dumps(document).encode("utf-8")


def _msg(document: Document) -> Document:
    message: Document = document["conversations"][0]["messages"][0]
    return message


def _two(document: Document, first: Document, second: Document) -> None:
    document["conversations"][0]["messages"] = [
        {**_msg(document), **first},
        {**_msg(document), **second},
    ]


HOSTILE: dict[str, tuple[bytes, str]] = {
    "not utf-8": (b'{"format": "hearth-chat", "title": "caf\xe9"}', "not UTF-8 text"),
    "not json": (b'{"format": "hearth-chat", ', "not valid JSON (line 1"),
    "NaN": (
        _edit(lambda d: _msg(d).update(stats={**asdict(STATS), "ttft_ms": float("nan")})),
        "contains NaN",
    ),
    "deep nesting": (_deep(200_000), "nests lists or objects too deeply"),
    "top level list": (b"[1, 2]", "not a Hearth chat export"),
    "other format": (_edit(lambda d: d.update(format="chatgpt")), "not a Hearth chat export"),
    "newer version": (_edit(lambda d: d.update(version=3)), "written by a newer Hearth"),
    "sampling not a number": (
        _edit(lambda d: d["conversations"][0].update(sampling={"temperature": "hot"})),
        '"sampling.temperature" must be a number, not text',
    ),
    "sampling out of range": (
        _edit(lambda d: d["conversations"][0].update(sampling={"temperature": 1e308})),
        "the sampling setting temperature must be between 0 and 2, not 1e+308",
    ),
    "seed past 32 bits": (
        _edit(lambda d: d["conversations"][0].update(sampling={"seed": 2**40})),
        "seed must be between -1 and 2.14748e+09",
    ),
    "number of 5,000 digits": (
        b'{"format": "hearth-chat", "version": ' + b"7" * 5_000 + b"}",
        "a number too large to use (77777777777777777777… has 5000 digits)",
    ),
    "stats past 64 bits": (
        _edit(lambda d: _msg(d).update(stats={**asdict(STATS), "n_ctx": 2**64})),
        "a number too large to use",
    ),
    "float too large": (
        _edit(lambda d: d["conversations"][0].update(sampling={"top_p": 1.5})).replace(
            b"1.5", b"1e999"
        ),
        "a number too large to use (1e999)",
    ),
    "outside_view not ids": (
        _edit(lambda d: d["conversations"][0]["messages"][0].update(outside_view=["x"])),
        '"outside_view" must be a whole number, not text',
    ),
    "version as text": (
        _edit(lambda d: d.update(version="1")),
        '"version" must be a whole number, not text',
    ),
    "no conversations": (_edit(lambda d: d.pop("conversations")), '"conversations" is missing'),
    "conversation not object": (
        _edit(lambda d: d.update(conversations=["x"])),
        'Conversation 1: "conversation 1" must be an object, not text',
    ),
    "missing content": (
        _edit(lambda d: _msg(d).pop("content")),
        "Conversation 1 ('Minimal'), message 1 (id 1): the field \"content\" is missing",
    ),
    "missing parent_id": (_edit(lambda d: _msg(d).pop("parent_id")), '"parent_id" is missing'),
    "content not text": (
        _edit(lambda d: _msg(d).update(content=42)),
        '"content" must be text, not a whole number',
    ),
    "id as bool": (_edit(lambda d: _msg(d).update(id=True)), '"id" must be a whole number, not'),
    "id as text": (_edit(lambda d: _msg(d).update(id="1")), '"id" must be a whole number'),
    "bad timestamp": (
        _edit(lambda d: _msg(d).update(created_at="yesterday")),
        "\"created_at\" is not a date and time ('yesterday')",
    ),
    "empty role": (_edit(lambda d: _msg(d).update(role="")), '"role" must be a short word'),
    "long status": (_edit(lambda d: _msg(d).update(status="x" * 33)), '"status" must be a short'),
    "stats missing field": (
        _edit(lambda d: _msg(d).update(stats={"model": "m"})),
        'stats: the field "chat_format" is missing',
    ),
    "stats float count": (
        _edit(lambda d: _msg(d).update(stats={**asdict(STATS), "n_ctx": 1.5})),
        '"n_ctx" must be a whole number, not a number',
    ),
    "pinned as text": (
        _edit(lambda d: d["conversations"][0].update(pinned="yes")),
        '"pinned" must be true/false, not text',
    ),
    "parent outside": (
        _edit(lambda d: _msg(d).update(parent_id=77)),
        "names parent 77, which is not in the same conversation",
    ),
    "self parent": (_edit(lambda d: _msg(d).update(parent_id=1)), "form a cycle"),
    "cycle": (
        _edit(lambda d: _two(d, {"id": 1, "parent_id": 2}, {"id": 2, "parent_id": 1})),
        "the parents of messages [1, 2] form a cycle",
    ),
    "duplicate ids": (
        _edit(lambda d: _two(d, {"id": 1}, {"id": 1})),
        "message id 1 appears twice",
    ),
    "lone surrogate": (
        _edit(lambda d: _msg(d).update(content="\ud800")),
        '"content" holds characters that are not valid Unicode',
    ),
    "huge message": (
        _edit(lambda d: _msg(d).update(content="é" * (5 * 1024 * 1024 + 1))),
        '"content" is too long (10.0 MB; the limit is 10 MB)',
    ),
}


@pytest.fixture
def occupied(target: Database) -> Iterator[Database]:
    """The target with one chat in it, so "nothing imported" is checked against real rows."""
    chat = ConversationRepository(target).create("Before")
    MessageRepository(target).add(chat.id, Role.USER, "before")
    yield target


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_file_imports_nothing_and_says_why(
    occupied: Database, tmp_path: Path, case: str
) -> None:
    data, expected = HOSTILE[case]
    before = _rows(occupied)
    path = tmp_path / "hostile.json"
    path.write_bytes(data)
    with pytest.raises(ChatImportError) as caught:
        import_file(occupied, path)
    assert str(caught.value).startswith("hostile.json: ")
    assert expected in str(caught.value)
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 300
    assert _rows(occupied) == before


def test_a_bad_second_conversation_imports_not_even_the_first(occupied: Database) -> None:
    document = _minimal()
    document["conversations"].append(copy.deepcopy(document["conversations"][0]))
    del document["conversations"][1]["messages"][0]["role"]
    before = _rows(occupied)
    with pytest.raises(ChatImportError, match=r"Conversation 2 .*\"role\" is missing"):
        import_bytes(occupied, json.dumps(document).encode())
    assert _rows(occupied) == before


def test_a_database_failure_halfway_rolls_everything_back(
    occupied: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _minimal()
    document["conversations"].append(copy.deepcopy(document["conversations"][0]))
    real = storage.bulk_import._insert_one
    calls: list[int] = []

    def fail_second(*args: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("The disk is full, so the chat history could not be saved.")
        return real(*args)

    monkeypatch.setattr(storage.bulk_import, "_insert_one", fail_second)
    before = _rows(occupied)
    with pytest.raises(ChatImportError, match="Nothing was imported: The disk is full"):
        import_bytes(occupied, json.dumps(document).encode())
    assert len(calls) == 2  # the first conversation had been inserted, then rolled back
    assert _rows(occupied) == before


def test_a_file_over_the_size_limit_is_refused_unread(occupied: Database, tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    before = _rows(occupied)
    with pytest.raises(
        ChatImportError, match=r"is too large to import \(200 MB; the limit is 200 MB\)"
    ):
        import_file(occupied, path)
    assert _rows(occupied) == before


def test_missing_file_and_folder(occupied: Database, tmp_path: Path) -> None:
    with pytest.raises(ChatImportError, match="no such file"):
        import_file(occupied, tmp_path / "nope.json")
    with pytest.raises(ChatImportError, match="is a folder"):
        import_file(occupied, tmp_path)


# ---- command line --------------------------------------------------------------------------


def test_cli_import_then_export_again(
    sample: Sample, source: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "all.json"
    export_chats(source, exported, "json")
    assert main(["import", str(exported)]) == 0
    assert capsys.readouterr().out == (
        f"Imported 2 chats from Hearth (8 messages): {exported}\nConversation ids: 1, 2\n"
    )

    again = tmp_path / "again.json"
    assert main(["export", str(again)]) == 0
    assert capsys.readouterr().out.endswith("\nConversation ids: 1, 2\n")  # issue 13
    first = json.loads(exported.read_text(encoding="utf-8"))
    assert _without_ids(json.loads(again.read_text(encoding="utf-8"))) == _without_ids(first)


def test_cli_import_refusal_is_one_line_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(_deep(100_000))
    assert main(["import", str(bad)]) == 1
    assert capsys.readouterr().err == (
        "hearth: error: bad.json: The file nests lists or objects too deeply to be read.\n"
    )
    database = open_database(resolve_paths().database)
    try:
        assert _rows(database) == (0, 0, 0)
    finally:
        database.close()
    assert os.path.exists(bad)


# ---- the round trip, column by column ------------------------------------------------------

_ID_COLUMNS = ("id", "conversation_id", "parent_id", "active_child_id", "active_root_id")


def _table(db: Database, name: str) -> list[dict[str, Any]]:
    with db.session() as session:
        result = session.execute(text(f"SELECT * FROM {name} ORDER BY rowid"))
        return [dict(row._mapping) for row in result]


def _comparable(db: Database, skip_titles: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """Every column of every chat table, live chats only, with ids replaced by their rank (the
    import hands out new ids in the same order). Columns are read with SELECT *, so one a
    later revision adds is compared too without touching this test."""
    chats = [
        c for c in _table(db, "conversations") if c["deleted_at"] is None
        and c["title"] not in skip_titles
    ]  # fmt: skip
    chat_rank = {c["id"]: n for n, c in enumerate(chats)}
    messages = [m for m in _table(db, "messages") if m["conversation_id"] in chat_rank]
    rank = {m["id"]: n for n, m in enumerate(sorted(messages, key=lambda m: m["id"]))}

    def plain(row: dict[str, Any], ranks: dict[int, int]) -> dict[str, Any]:
        out = dict(row)
        for column in _ID_COLUMNS:
            if out.get(column) is not None:
                out[column] = (
                    chat_rank[out[column]]
                    if column == "conversation_id"
                    else (ranks.get(out[column], f"dangling {out[column]}"))
                )
        if out.get("context_json"):
            ids = json.loads(out["context_json"])["outside_view"]
            out["context_json"] = sorted(rank[i] for i in ids)
        return out

    stats = [s for s in _table(db, "generation_stats") if s["message_id"] in rank]
    return {
        # A conversation's own id is a chat rank; active_root_id points at a message.
        "conversations": [plain(c, rank) | {"id": chat_rank[c["id"]]} for c in chats],
        "messages": sorted((plain(m, rank) for m in messages), key=lambda m: m["id"]),
        "generation_stats": sorted(
            ({**s, "message_id": rank[s["message_id"]]} for s in stats),
            key=lambda s: s["message_id"],
        ),
    }


def test_round_trip_keeps_every_stored_column(
    source: Database, target: Database, sample: Sample, tmp_path: Path
) -> None:
    ConversationRepository(target).create("Already here")
    export_chats(source, tmp_path / "all.json", "json")
    import_file(target, tmp_path / "all.json")
    before, after = _comparable(source), _comparable(target, skip_titles=("Already here",))
    assert len(before["messages"]) == 8 and len(before["generation_stats"]) == 2
    for table in before:
        assert after[table] == before[table], table
