"""`hearth export OUT` and `hearth import FILE`: chats to Markdown, HTML or Hearth JSON files,
and from Hearth JSON or the exports of ChatGPT, Open WebUI, LM Studio and Jan (recognised by
their content; app/chat/imports). app/cli/main.py registers them.

Writing the export words and renders messages as the window shows them (app.gui.chat.export,
with ui's Qt-free Markdown renderer); app.cli never imports app.gui or ui, so the entry point
(app/entry.py) hands that exporter in as a `ChatExporter`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from app.cli.output import fail as _fail
from app.config.paths import resolve_paths

if TYPE_CHECKING:
    from storage.database import Database
    from storage.recovery_report import RecoveryNote

ExportFormat = Literal["md", "json", "html"]


class ExportFailed(Exception):
    """The chats could not be written; the message says why, in the user's words."""


class ChatExporter(Protocol):
    def __call__(
        self, database: Database, out: Path, fmt: ExportFormat | None, conversation_id: int | None
    ) -> tuple[int, int]:
        """Write one chat (or all not in the trash) to `out` in `fmt` (None: from `out`'s
        extension); returns the chats and messages written. Raises ExportFailed, or
        DatabaseError when the history cannot be read."""
        ...


def add_parsers(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="save chats as Markdown, HTML or Hearth JSON (all chats not in the trash)"
    )
    export.add_argument(
        "--format",
        choices=("md", "json", "html"),
        default=None,
        help="file format (default: from OUT's extension, .md/.html, else json)",
    )
    export.add_argument("--conversation", type=int, default=None, metavar="ID", help="one chat")
    export.add_argument("out", type=Path, metavar="OUT", help="file to write")
    chat_import = commands.add_parser(
        "import",
        help="add the chats in an export of Hearth, ChatGPT, Open WebUI, LM Studio or Jan",
    )
    chat_import.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="the export file (its format is recognised by its content), or a Jan threads folder",
    )


def _open_database() -> tuple[Database, RecoveryNote | None]:
    """The chat history, a damaged one recovered first. Raises DatabaseError, also for a
    data folder that cannot be created (full disk, read-only)."""
    from app.chat.recovery import open_chat_history

    paths = resolve_paths().ensure_for_history()
    return open_chat_history(paths.database)


def run_export(args: argparse.Namespace, export_chats: ChatExporter) -> int:
    from storage.errors import DatabaseError

    out: Path = args.out.expanduser()
    try:
        database, note = _open_database()
    except DatabaseError as exc:
        return _fail(str(exc))
    if note is not None:
        # Exported below is what came back; the user must know it may not be everything.
        print(f"hearth: warning: {note.describe()}", file=sys.stderr)
    try:
        conversations, messages = export_chats(database, out, args.format, args.conversation)
        ids = _exported_ids(database, args.conversation)
    except (ExportFailed, DatabaseError) as exc:
        return _fail(str(exc))
    finally:
        database.close()
    print(f"Exported {conversations} chat(s), {messages} message(s) to {out}")
    # The ids `hearth chat --conversation ID` continues (issue 13).
    print(f"Conversation ids: {_id_list(ids)}")
    return 0


def _exported_ids(database: Database, conversation_id: int | None) -> list[int]:
    """The ids of the chats an export wrote: the one asked for, else all not in the trash."""
    if conversation_id is not None:
        return [conversation_id]
    from storage.chats import ConversationRepository

    return sorted(record.id for record in ConversationRepository(database).list_recent())


def _id_list(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids) if ids else "none"


def run_import(args: argparse.Namespace) -> int:
    from app.chat.importer import ChatImportError
    from app.chat.imports.sources import import_path
    from storage.errors import DatabaseError

    try:
        database, note = _open_database()
    except DatabaseError as exc:
        return _fail(str(exc))
    if note is not None:
        print(f"hearth: warning: {note.describe()}", file=sys.stderr)
    try:
        summary = import_path(database, args.file.expanduser())
    except ChatImportError as exc:
        return _fail(str(exc))
    finally:
        database.close()
    print(f"{summary.describe()}: {args.file}")
    print(f"Conversation ids: {_id_list(list(summary.conversation_ids))}")
    return 0
