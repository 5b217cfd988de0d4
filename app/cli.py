"""`hearth` command line. Imports neither Qt nor llama.cpp until a command needs them, so
`--help`, `--version` and `paths` are instant and work on a machine without a display."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.documents import cli as documents_cli
from app.models import cli as models_cli
from app.paths import resolve_paths
from app.settings import Settings, load_settings
from app.translation import cli as translation_cli

if TYPE_CHECKING:
    from storage.database import Database
    from storage.recovery_report import RecoveryNote


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

    chat = commands.add_parser("chat", help="send one message and stream the reply to stdout")
    chat.add_argument("prompt", help="the message to send")
    chat.add_argument("--model", type=Path, help="GGUF model file (default: the built-in model)")
    chat.add_argument("--max-tokens", type=int, default=None, help="longest reply, in tokens")
    chat.add_argument("--system", default=None, help="system prompt")
    chat.add_argument("--n-ctx", type=int, default=None, help="context size in tokens")
    chat.add_argument("--gpu-layers", type=int, default=None, help="layers to offload (-1 = all)")
    chat.add_argument("--temperature", type=float, default=None)
    chat.add_argument("--seed", type=int, default=None, help="sampling seed (repeatable output)")
    chat.add_argument("--json", action="store_true", help="print one JSON object at the end")

    # Feature commands keep their heavy imports inside run(), so --help stays instant.
    documents_cli.add_parser(commands)
    translation_cli.add_parser(commands)
    models_cli.add_parser(commands)

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
    chat_import = commands.add_parser("import", help="add the chats in a Hearth JSON export")
    chat_import.add_argument("file", type=Path, metavar="FILE", help="a Hearth JSON export")

    commands.add_parser("paths", help="print the data folder, database file and models folder")
    commands.add_parser("gui", help="open the desktop window (the default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "paths":
        return _cmd_paths()
    if args.command == "chat":
        return _cmd_chat(args)
    if args.command == "summarize":
        return documents_cli.run(args)
    if args.command == "translate":
        return translation_cli.run(args)
    if args.command == "models":
        return models_cli.run(args)
    if args.command == "export":
        return _cmd_export(args)
    if args.command == "import":
        return _cmd_import(args)
    return _cmd_gui()


def _cmd_paths() -> int:
    paths = resolve_paths()
    print(f"data folder:   {paths.data_dir}")
    print(f"database file: {paths.database}")
    print(f"models folder: {paths.models_dir}")
    print(f"settings file: {paths.settings_file}")
    return 0


def _fail(message: str, code: int = 1) -> int:
    print(f"hearth: error: {message}", file=sys.stderr)
    return code


def _open_database() -> tuple[Database, RecoveryNote | None]:
    """The chat history, a damaged one recovered first. Raises DatabaseError, also for a
    data folder that cannot be created (full disk, read-only)."""
    from app.chat_recovery import open_chat_history
    from storage.data_folder import folder_problem
    from storage.errors import DatabaseError

    paths = resolve_paths()
    try:
        paths.ensure()
    except OSError as exc:
        raise DatabaseError(
            folder_problem(paths.data_dir)
            or f"Hearth's data folder {paths.data_dir} could not be created ({exc})."
        ) from exc
    return open_chat_history(paths.database)


def _cmd_export(args: argparse.Namespace) -> int:
    from app.chat_export import ExportError, export_chats, format_for_path
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
        summary = export_chats(
            database,
            out,
            args.format or format_for_path(out),
            conversation_id=args.conversation,
        )
    except (ExportError, DatabaseError) as exc:
        return _fail(str(exc))
    finally:
        database.close()
    print(f"Exported {summary.conversations} chat(s), {summary.messages} message(s) to {out}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from app.chat_import import ChatImportError, import_file
    from storage.errors import DatabaseError

    try:
        database, note = _open_database()
    except DatabaseError as exc:
        return _fail(str(exc))
    if note is not None:
        print(f"hearth: warning: {note.describe()}", file=sys.stderr)
    try:
        summary = import_file(database, args.file.expanduser())
    except ChatImportError as exc:
        return _fail(str(exc))
    finally:
        database.close()
    damaged = f" ({summary.damaged} shown as damaged)" if summary.damaged else ""
    print(
        f"Imported {len(summary.conversation_ids)} chat(s), "
        f"{summary.messages} message(s){damaged} from {args.file}"
    )
    return 0


def _cmd_gui() -> int:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        return _fail(
            "no graphical display found (DISPLAY and WAYLAND_DISPLAY are unset); "
            'the command line works without one: hearth chat "Hello"',
            2,
        )
    from app.gui import run_gui  # Qt is imported only here

    return run_gui(resolve_paths())


def _resolve_model(explicit: Path | None, settings: Settings) -> Path:
    """--model, else the settings' model, else the built-in model (assembled on first use)."""
    from app.default_model import ensure_default_model

    if explicit is not None:
        return explicit.expanduser()
    if settings.model_path:
        return Path(settings.model_path)
    return ensure_default_model(resolve_paths().ensure().models_dir)


def _cmd_chat(args: argparse.Namespace) -> int:
    from app.default_model import DefaultModelError
    from inference.protocol import ChatMessage, EngineSettings, Priority, Sampling
    from inference.sync_client import EngineError, SyncEngine

    if not args.prompt.strip():
        return _fail("the message is empty")
    try:
        # Arguments that are not UTF-8 arrive as surrogates (PEP 383), which crash later.
        os.fsencode(args.prompt).decode("utf-8")
    except UnicodeDecodeError as exc:
        return _fail(
            f"the message is not UTF-8 text (byte {exc.start}); "
            "type it in a UTF-8 terminal or convert it (iconv -t UTF-8)"
        )
    paths = resolve_paths().ensure()
    settings: Settings = load_settings(paths.settings_file)
    try:
        model_path = _resolve_model(args.model, settings)
    except DefaultModelError as exc:
        return _fail(str(exc))
    engine_settings = EngineSettings(
        model_path=str(model_path),
        n_ctx=args.n_ctx or settings.n_ctx,
        n_gpu_layers=settings.n_gpu_layers if args.gpu_layers is None else args.gpu_layers,
        n_threads=settings.n_threads,
        n_threads_batch=settings.n_threads_batch,
        n_batch=settings.n_batch,
        flash_attn=settings.flash_attn,
    )
    sampling = Sampling(
        temperature=settings.temperature if args.temperature is None else args.temperature,
        top_p=settings.top_p,
        top_k=settings.top_k,
        min_p=settings.min_p,
        repeat_penalty=settings.repeat_penalty,
        seed=args.seed,
    )
    messages = [ChatMessage("user", args.prompt)]
    if args.system:
        messages.insert(0, ChatMessage("system", args.system))

    def echo(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        with SyncEngine.start(engine_settings) as engine:
            # Ctrl+C ends the reply (kept and reported), not the engine mid-write.
            previous = signal.signal(signal.SIGINT, lambda *_: engine.cancel())
            try:
                done = engine.chat(
                    messages,
                    max_tokens=args.max_tokens or settings.max_tokens,
                    sampling=sampling,
                    priority=Priority.INTERACTIVE,
                    on_delta=None if args.json else echo,
                )
            finally:
                signal.signal(signal.SIGINT, previous)
            info = engine.info
    except EngineError as exc:
        return _fail(str(exc).splitlines()[0])
    assert info is not None
    if args.json:
        payload: dict[str, Any] = {"text": done.text, **asdict(done.stats)}
        payload.update(
            backend=info.backend,
            model_path=info.path,
            quantization=info.quantization,
            chat_format_label=info.chat_format_label,
            chat_format_stops=list(info.chat_format_stops),
        )
        print(json.dumps(payload, ensure_ascii=False))
    else:
        echo("\n")
        s = done.stats
        print(
            f"[{s.completion_tokens} tokens · {s.decode_tps:.1f} tok/s · "
            f"TTFT {s.ttft_ms:.0f} ms · stop: {s.stop_reason}]",
            file=sys.stderr,
        )
    return 0
