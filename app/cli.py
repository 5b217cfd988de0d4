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
from typing import Any

from app.paths import resolve_paths
from app.settings import Settings, load_settings


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

    commands.add_parser("paths", help="print the data folder, database file and models folder")
    commands.add_parser("gui", help="open the desktop window (the default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "paths":
        return _cmd_paths()
    if args.command == "chat":
        return _cmd_chat(args)
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


def _cmd_chat(args: argparse.Namespace) -> int:
    from app.default_model import DefaultModelError, ensure_default_model
    from inference.engine_process import EngineCrashedError, EngineProcess
    from inference.protocol import (
        ChatMessage,
        Done,
        EngineSettings,
        Error,
        GenerateRequest,
        Loaded,
        LoadRequest,
        Sampling,
    )

    if not args.prompt.strip():
        return _fail("the message is empty")
    paths = resolve_paths().ensure()
    settings: Settings = load_settings(paths.settings_file)
    if args.model is not None:
        model_path = args.model.expanduser()
    elif settings.model_path:
        model_path = Path(settings.model_path)
    else:
        try:
            model_path = ensure_default_model(paths.models_dir)
        except DefaultModelError as exc:
            return _fail(str(exc))
    engine_settings = EngineSettings(
        model_path=str(model_path),
        n_ctx=args.n_ctx or settings.n_ctx,
        n_gpu_layers=settings.n_gpu_layers if args.gpu_layers is None else args.gpu_layers,
        n_threads=settings.n_threads,
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

    engine = EngineProcess()
    engine.start()
    try:
        engine.send(LoadRequest(engine.next_id(), engine_settings))
        info = None
        while info is None:
            event = engine.recv()
            if isinstance(event, Error):
                return _fail(event.message.splitlines()[0])
            if isinstance(event, Loaded):
                info = event.info
        request = GenerateRequest(
            engine.next_id(),
            tuple(messages),
            max_tokens=args.max_tokens or settings.max_tokens,
            sampling=sampling,
        )
        engine.send(request)
        done = _stream_reply(engine, request.id, echo=not args.json)
        if isinstance(done, Error):
            return _fail(done.message.splitlines()[0])
        assert isinstance(done, Done)
        if args.json:
            payload: dict[str, Any] = {"text": done.text, **asdict(done.stats)}
            payload.update(
                backend=info.backend,
                model_path=info.path,
                quantization=info.quantization,
                chat_format_label=info.chat_format_label,
            )
            print(json.dumps(payload, ensure_ascii=False))
        else:
            s = done.stats
            print(
                f"[{s.completion_tokens} tokens · {s.decode_tps:.1f} tok/s · "
                f"TTFT {s.ttft_ms:.0f} ms · stop: {s.stop_reason}]",
                file=sys.stderr,
            )
        return 0
    except EngineCrashedError as exc:
        return _fail(str(exc))
    finally:
        engine.stop()


def _stream_reply(engine: Any, request_id: int, *, echo: bool) -> Any:
    """Print deltas as they come; Ctrl+C cancels the reply instead of killing the engine."""
    from inference.protocol import CancelRequest, Delta, Done, Error

    def _cancel(_signum: int, _frame: object) -> None:
        engine.send(CancelRequest(engine.next_id(), request_id))

    previous = signal.signal(signal.SIGINT, _cancel)
    try:
        while True:
            event = engine.recv()
            if isinstance(event, Delta) and event.id == request_id:
                if echo:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
            elif isinstance(event, Done | Error) and event.id == request_id:
                if echo and isinstance(event, Done):
                    sys.stdout.write("\n")
                    sys.stdout.flush()
                return event
    finally:
        signal.signal(signal.SIGINT, previous)
