"""`hearth` command line: the parser and the dispatch; each subcommand lives in its own module
beside this one (chat, summarize, translate, models, export_import, paths). Imports neither Qt
nor llama.cpp until a command needs them, so `--help`, `--version` and `paths` are instant and
work on a machine without a display.

What the command takes from the desktop app (the window; the chat exporter, which renders
messages as the window does) comes in as `GuiParts` from the entry point, app/entry.py: app.cli
never imports app.gui or ui."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from app.cli import bench as bench_cli
from app.cli import chat as chat_cli
from app.cli import connect as connect_cli
from app.cli import export_import as export_import_cli
from app.cli import models as models_cli
from app.cli import paths as paths_cli
from app.cli import serve as serve_cli
from app.cli import summarize as documents_cli
from app.cli import translate as translation_cli
from app.cli.export_import import ChatExporter
from app.cli.output import fail
from app.config.paths import HearthPaths, resolve_paths


@dataclass(frozen=True)
class GuiParts:
    """The desktop app's parts the command uses, handed in by the entry point."""

    open_window: Callable[[HearthPaths], int]  # runs the window until it closes; exit code
    export_chats: ChatExporter


def _version() -> str:
    try:
        return version("hearth")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Hearth: private chat with language models on your own hardware. "
        "Without a command, opens the desktop window.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    # Commands keep their heavy imports inside run(), so --help stays instant.
    chat_cli.add_parser(commands)
    documents_cli.add_parser(commands)
    translation_cli.add_parser(commands)
    models_cli.add_parser(commands)
    bench_cli.add_parser(commands)
    export_import_cli.add_parsers(commands)
    paths_cli.add_parser(commands)
    serve_cli.add_parser(commands)
    connect_cli.add_parser(commands)
    commands.add_parser("gui", help="open the desktop window (the default)")
    return parser


def main(argv: list[str] | None = None, *, gui: GuiParts) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "paths":
        return paths_cli.run(args)
    if args.command == "chat":
        return chat_cli.run(args)
    if args.command == "summarize":
        return documents_cli.run(args)
    if args.command == "translate":
        return translation_cli.run(args)
    if args.command == "models":
        return models_cli.run(args)
    if args.command == "bench":
        return bench_cli.run(args)
    if args.command == "export":
        return export_import_cli.run_export(args, gui.export_chats)
    if args.command == "import":
        return export_import_cli.run_import(args)
    if args.command == "serve":
        return serve_cli.run(args)
    if args.command == "connect":
        return connect_cli.run(args)
    return _cmd_gui(gui.open_window)


def _cmd_gui(open_window: Callable[[HearthPaths], int]) -> int:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        return fail(
            "no graphical display found (DISPLAY and WAYLAND_DISPLAY are unset); "
            'the command line works without one: hearth chat "Hello"',
            2,
        )
    return open_window(resolve_paths())
