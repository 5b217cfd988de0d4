from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import DatabaseError, DatabaseLockedError
from storage.records import MessageStatus, Role
from tests.support.private_mount import run_on_own_disk


def test_open_creates_parent_dir_and_sets_pragmas(db: Database, db_path: Path) -> None:
    assert db.path == db_path and db_path.exists()
    with db.session() as session:
        pragma = lambda name: session.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("busy_timeout") == 5000


def test_open_applies_no_chat_policy_a_streaming_reply_stays_as_written(db_path: Path) -> None:
    """Marking replies a dead app left streaming is the app's start-up step
    (tests/app/test_chat_recovery.py), not a side effect of opening the file."""
    db, _ = Database.open(db_path)
    chat = ConversationRepository(db).create()
    messages = MessageRepository(db)
    user = messages.add(chat.id, Role.USER, "Tell me a story")
    reply = messages.start_reply(chat.id, user.id)
    messages.update_partial(reply.id, "Once upon")
    db.close()

    reopened, note = Database.open(db_path)
    try:
        assert note is None
        stored = MessageRepository(reopened).get(reply.id)
        assert stored is not None
        assert (stored.content, stored.status) == ("Once upon", MessageStatus.STREAMING)
    finally:
        reopened.close()


def test_non_database_file_is_moved_aside(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db_path.write_bytes(garbage)
    db_path.with_name("hearth.db-wal").write_bytes(b"stale")

    db, note = Database.open(db_path)
    try:
        assert note is not None
        assert note.moved_to.name.startswith("hearth.db.corrupt-")
        assert note.moved_to.read_bytes() == garbage
        assert note.moved_to.with_name(note.moved_to.name + "-wal").read_bytes() == b"stale"
        assert "not a database" in note.reason
        chat = ConversationRepository(db).create("fresh")
        assert ConversationRepository(db).list_recent() == [chat]
    finally:
        db.close()


def _hold_exclusive_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rollback-journal"])
def test_locked_database_raises_plain_error(db_path: Path, wal: bool) -> None:
    if wal:
        Database.open(db_path)[0].close()
    else:  # a file some other tool left in rollback-journal mode: even reads block
        db_path.parent.mkdir(parents=True)
        sqlite3.connect(db_path).close()
    holder = _hold_exclusive_lock(db_path)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseLockedError, match="locked by another program"):
            Database.open(db_path, busy_timeout_ms=200)
        assert time.monotonic() - started < 5
    finally:
        holder.close()
    assert not list(db_path.parent.glob("*.corrupt-*")), "a locked file is not damaged"


def test_lock_during_use_raises_plain_error(db_path: Path) -> None:
    db, _ = Database.open(db_path, busy_timeout_ms=200)
    conversations = ConversationRepository(db)
    holder = _hold_exclusive_lock(db_path)
    try:
        with pytest.raises(DatabaseLockedError):
            conversations.create()
    finally:
        holder.close()
        db.close()


# ---- a full disk, a read-only folder: the message names the cause ---------------------------

_FILL_THE_DISK = """
def fill(disk):
    with open(disk / "filler", "wb", buffering=0) as filler:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    filler.write(bytes(size))
            except OSError:
                pass
"""


def test_full_disk_at_start_says_the_disk_is_full_and_names_the_folder(tmp_path: Path) -> None:
    code = (
        _FILL_THE_DISK
        + """
import sys
from pathlib import Path
from storage.database import Database
from storage.errors import DatabaseError
disk = Path(sys.argv[1])
data = disk / "data"
Database.open(data / "hearth.db")[0].close()
fill(disk)
for database in (data / "hearth.db", disk / "new" / "hearth.db"):
    try:
        Database.open(database)[0].close()
        print("opened")
    except DatabaseError as error:
        print(error)
"""
    )
    disk = tmp_path / "disk"
    existing, new = run_on_own_disk(disk, code).splitlines()
    # SQLite itself said "disk I/O error" (creating its shared-memory file) for the first.
    assert existing.startswith(f"The disk holding Hearth's data folder ({disk / 'data'}) is full")
    assert new.startswith(f"The disk holding Hearth's data folder ({disk / 'new'}) is full")


def test_read_only_file_system_names_the_data_folder(tmp_path: Path) -> None:
    code = """
import os, subprocess, sys
from pathlib import Path
from storage.database import Database
from storage.errors import DatabaseError
from app.entry import main
disk = Path(sys.argv[1])
data = disk / "data"
Database.open(data / "hearth.db")[0].close()
subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
try:
    Database.open(data / "hearth.db")[0].close()
    print("opened")
except DatabaseError as error:
    print(error)
os.environ["HEARTH_HOME"] = str(disk / "home")  # not there yet, and cannot be created
sys.stderr = sys.stdout
print(main(["export", str(disk / "out.json")]))
"""
    disk = tmp_path / "disk"
    opened, exported, code_line = run_on_own_disk(disk, code).splitlines()
    assert opened.startswith(f"Hearth's data folder {disk / 'data'} is read-only")
    assert exported == (
        f"hearth: error: Hearth cannot create its data folder {disk / 'home'}: {disk} is "
        "read-only. Make it writable, or point HEARTH_HOME at another folder."
    )
    assert code_line == "1"


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="folder permissions do not stop root from writing (CI may run as root)",
)
def test_read_only_data_folder_names_the_folder(db_path: Path) -> None:
    Database.open(db_path)[0].close()
    db_path.parent.chmod(0o555)
    try:
        with pytest.raises(DatabaseError) as raised:
            Database.open(db_path)[0].close()
    finally:
        db_path.parent.chmod(0o755)
    assert str(raised.value).startswith(f"Hearth's data folder {db_path.parent} is read-only")


def test_a_folder_turned_read_only_in_use_is_named_and_writes_work_again_after(
    tmp_path: Path,
) -> None:
    # A read-only bind mount over the folder binds every file opened there afterwards; the
    # pool's connections are closed first, so the next session opens the file again (files
    # already open keep writing: the kernel refuses to make a busy mount read-only).
    code = """
import subprocess, sys
from pathlib import Path
from storage.chats import ConversationRepository
from storage.database import Database
from storage.errors import DatabaseError
data = Path(sys.argv[1]) / "data"
db = Database.open(data / "hearth.db")[0]
chats = ConversationRepository(db)
chats.create()
subprocess.run(["mount", "--bind", str(data), str(data)], check=True)
subprocess.run(["mount", "-o", "remount,ro,bind", str(data)], check=True)
db.close()
try:
    chats.create()
    print("saved")
except DatabaseError as error:
    print(error)
subprocess.run(["umount", "--lazy", str(data)], check=True)
chats.create()
print(len(chats.list_recent()))
db.close()
"""
    disk = tmp_path / "disk"
    refused, count = run_on_own_disk(disk, code).splitlines()
    assert refused.startswith(f"Hearth's data folder {disk / 'data'} is read-only"), refused
    assert count == "2"  # the first chat kept, the one after the folder came back saved
