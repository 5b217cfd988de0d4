"""`hearth translate`: translate text or a file with the local model.

    hearth translate --to LANG [--from LANG] [--glossary FILE] [--model PATH]
                     [--out [PATH]] [FILE | -]

Text goes to stdout (DOCX, and any input with --out, goes to a file next to the source);
progress goes to stderr; errors are one line `hearth: error: ...` and a non-zero exit.
app/cli.py registers this with `add_parser(commands)` and dispatches to `run(args)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.translation.languages import UnknownLanguageError, language

_EXIT_ERROR = 1


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "translate", help="translate text or a file (TXT, Markdown, SRT, DOCX) locally"
    )
    parser.add_argument("input", nargs="?", default="-", help="file to translate, or - for stdin")
    parser.add_argument("--to", dest="target", required=True, help="target language code")
    parser.add_argument("--from", dest="source", default=None, help="source language code")
    parser.add_argument("--glossary", type=Path, default=None, help="glossary (JSON/CSV/TSV)")
    parser.add_argument("--model", type=Path, default=None, help="GGUF model file")
    parser.add_argument(
        "--out",
        nargs="?",
        const="",
        default=None,
        help="write a file (default name: next to the source, NAME.LANG.EXT)",
    )
    return parser


def _fail(message: str) -> int:
    print(f"hearth: error: {message}", file=sys.stderr)
    return _EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    from app.translation.detect import detect
    from app.translation.files import SUPPORTED, FileFormatError, translate_file
    from app.translation.glossary import Glossary, GlossaryError, load_glossary
    from app.translation.glossary_store import write_text_atomic
    from app.translation.translator import TranslationCancelled, Translator
    from inference.sync_engine import EngineError

    try:
        target = language(args.target).code
        source = language(args.source).code if args.source else None
    except UnknownLanguageError as exc:
        return _fail(str(exc))
    glossary = Glossary()
    if args.glossary is not None:
        try:
            glossary = load_glossary(args.glossary)
        except GlossaryError as exc:
            return _fail(str(exc))

    path: Path | None = None if args.input == "-" else Path(args.input).expanduser()
    if path is not None:
        if not path.is_file():
            return _fail(f"{path}: no such file")
        if path.suffix.lower() not in SUPPORTED:
            return _fail(f"{path.name}: unsupported file type (supported: {', '.join(SUPPORTED)})")
    writes_file = path is not None and (args.out is not None or path.suffix.lower() == ".docx")
    text = ""
    if path is None:
        text = sys.stdin.read()
        if args.out == "":
            return _fail("--out needs a PATH when the text comes from stdin")
    elif path.suffix.lower() != ".docx":
        # Read also when a file is written: its text tells the language and whether
        # there is anything to translate.
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return _fail(f"{path.name} is not UTF-8 text; save it as UTF-8 and try again")
    if (path is None or path.suffix.lower() != ".docx") and not text.strip():
        return _fail("there is no text to translate")
    if source is None and text.strip():
        detection = detect(text)
        if detection.code is None:
            return _fail(detection.message.replace("pick the source language", "give --from LANG"))
        source = detection.code
        print(f"hearth: detected {language(source).name}", file=sys.stderr)

    try:
        engine = _start_engine(args.model)
    except (EngineError, RuntimeError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        translator = Translator(engine, model_name=engine.info.name if engine.info else "")
        progress = _progress_printer()
        if writes_file:
            assert path is not None
            out = Path(args.out).expanduser() if args.out else None
            result = translate_file(
                path,
                translator,
                target_lang=target,
                source_lang=source,
                glossary=glossary,
                out=out,
                on_progress=progress,
            )
            print(f"\nhearth: wrote {result.path}", file=sys.stderr)
            flags = result.flags
        else:
            translation = translator.translate(
                text,
                target_lang=target,
                source_lang=source,
                glossary=glossary,
                markdown=path is None or path.suffix.lower() != ".txt",
                on_progress=progress,
            )
            print(file=sys.stderr)
            if args.out:
                # Whole or not at all: an interrupted run leaves no partial file.
                write_text_atomic(Path(args.out).expanduser(), translation.text)
                print(f"hearth: wrote {args.out}", file=sys.stderr)
            else:
                sys.stdout.write(translation.text)
                if not translation.text.endswith("\n"):
                    sys.stdout.write("\n")
            flags = translation.flags
        for flag in flags:
            print(f"hearth: check: {flag}", file=sys.stderr)
        return 0
    except (FileFormatError, EngineError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        name = exc.filename or "the output file"
        return _fail(f"{name}: cannot be written ({exc.strerror or exc}); nothing was written")
    except (TranslationCancelled, KeyboardInterrupt):
        return _fail("cancelled; nothing was written")
    finally:
        engine.close()


def _start_engine(model: Path | None) -> Any:
    from app.default_model import ensure_default_model
    from app.paths import resolve_paths
    from app.settings import load_settings
    from inference.protocol import EngineSettings
    from inference.sync_engine import SyncEngine

    paths = resolve_paths().ensure()
    settings = load_settings(paths.settings_file)
    if model is not None:
        model_path = model.expanduser()
    elif settings.model_path:
        model_path = Path(settings.model_path)
    else:
        model_path = ensure_default_model(paths.models_dir)
    if not model_path.is_file():
        raise RuntimeError(f"{model_path}: no such model file")
    return SyncEngine.start(
        EngineSettings(
            model_path=str(model_path),
            n_ctx=settings.n_ctx,
            n_gpu_layers=settings.n_gpu_layers,
            n_threads=settings.n_threads,
            n_threads_batch=settings.n_threads_batch,
            n_batch=settings.n_batch,
            flash_attn=settings.flash_attn,
        )
    )


def _progress_printer() -> Any:
    def show(done: int, total: int, seconds_left: float | None) -> None:
        left = "" if seconds_left is None else f", about {seconds_left:.0f} s left"
        print(f"\rtranslating: {done}/{total} segments{left}   ", end="", file=sys.stderr)

    return show
