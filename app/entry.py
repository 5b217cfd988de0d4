"""The process entry point of `hearth` and `python -m app`: the composition root of the command
line. app.cli never imports app.gui or ui (an import-linter contract), so the two things the
command takes from the desktop app are handed to it here: the window (`hearth` with no command,
or `hearth gui`) and the chat exporter (`hearth export`: it words and renders messages as the
window shows them, with ui's Qt-free Markdown renderer). Both are imported only when a command
uses them, so `--help`, `paths` and the other commands load neither Qt nor ui.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.export_import import ExportFailed, ExportFormat
from app.cli.main import GuiParts
from app.cli.main import main as cli_main

if TYPE_CHECKING:
    from app.config.paths import HearthPaths
    from storage.database import Database


def _open_window(paths: HearthPaths) -> int:
    from app.gui.main import run_gui  # Qt is imported only here

    return run_gui(paths)


def _export_chats(
    database: Database, out: Path, fmt: ExportFormat | None, conversation_id: int | None
) -> tuple[int, int]:
    from app.gui.chat.export import ExportError, export_chats, format_for_path

    try:
        summary = export_chats(
            database, out, fmt or format_for_path(out), conversation_id=conversation_id
        )
    except ExportError as exc:
        raise ExportFailed(str(exc)) from exc
    return summary.conversations, summary.messages


GUI_PARTS = GuiParts(open_window=_open_window, export_chats=_export_chats)


def main(argv: list[str] | None = None) -> int:
    """Run `hearth` with `argv` (the process's arguments when None); returns the exit code."""
    return cli_main(argv, gui=GUI_PARTS)
