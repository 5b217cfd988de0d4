"""`hearth translate`: translate text or a file with the local model.

    hearth translate --to LANG [--from LANG] [--glossary FILE] [--model PATH]
                     [--out [PATH]] [FILE | -]

Without --out the translation goes to stdout; with --out to a file (by default next to the
source). A file is translated by its format wherever the result goes: stdout gets the very
bytes --out would write. A DOCX goes to stdout only when stdout is redirected, never to a
terminal. Progress goes to stderr; errors are one line `hearth: error: ...` and a non-zero
exit.
app/cli/main.py registers this with `add_parser(commands)` and dispatches to `run(args)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.backend_options import BackendError, add_backend_options, check_backend_options
from app.languages.codes import UnknownLanguageError, language

_EXIT_ERROR = 1
_CONVERT = "Convert it to UTF-8 first (for example with iconv -t UTF-8) and try again."


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
        help="write a file (default name: next to the source, NAME.LANG.EXT); without "
        "--out the same file goes to stdout (a DOCX only when stdout is redirected)",
    )
    add_backend_options(parser)
    return parser


def _fail(message: str) -> int:
    print(f"hearth: error: {message}", file=sys.stderr)
    return _EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    from app.languages.detect import detect
    from app.translation.files import (
        SUPPORTED,
        FileFormatError,
        decode_text,
        read_text,
        translate_file,
        translate_file_data,
    )
    from app.translation.glossary import Glossary, GlossaryError, load_glossary
    from app.translation.translator import TranslationCancelled, Translator
    from app.util.atomic_write import write_atomic
    from inference.sync_client import EngineError

    if (problem := check_backend_options(args)) is not None:
        return _fail(problem)
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
    suffix = path.suffix.lower() if path is not None else ""
    if path is not None:
        if not path.is_file():
            return _fail(f"{path}: no such file")
        if suffix not in SUPPORTED:
            return _fail(f"{path.name}: unsupported file type (supported: {', '.join(SUPPORTED)})")
    elif args.out == "":
        return _fail("--out needs a PATH when the text comes from stdin")
    if path is not None and suffix == ".docx" and args.out is None and sys.stdout.isatty():
        # As pandoc does: a binary file goes to stdout only when stdout is redirected.
        return _fail(
            f"{path.name}: a translated DOCX is a binary file, not for the terminal; give "
            "--out to write it beside the source, or redirect stdout to a file"
        )
    text = ""
    try:
        if path is None:
            # Bytes, not sys.stdin's text: how stdin decodes depends on the locale (a C
            # locale smuggles bad bytes in as surrogates), and the file rule must hold.
            text = decode_text(sys.stdin.buffer.read(), "The text on stdin", fix=_CONVERT)
        elif suffix != ".docx":
            # Read also when a file is written: its text tells the language and whether
            # there is anything to translate.
            text = read_text(path)
    except FileFormatError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{path}: cannot be read ({exc.strerror or exc})")
    if suffix != ".docx" and not text.strip():
        return _fail("there is no text to translate")
    if source is None and text.strip():
        detection = detect(text)
        if detection.code is None:
            return _fail(detection.message.replace("pick the source language", "give --from LANG"))
        source = detection.code
        print(f"hearth: detected {language(source).name}", file=sys.stderr)

    try:
        if args.backend is not None:
            from app.cli.backend_options import open_remote

            engine = open_remote(args, model=args.model)
        else:
            engine = _start_engine(args.model)
    except (EngineError, RuntimeError, BackendError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        translator = Translator(engine, model_name=engine.info.name if engine.info else "")
        progress = _progress_printer()
        if path is not None and args.out is not None:
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
        elif path is not None:
            # The file's format decides what the model sees (an SRT's cue numbers and
            # timings never reach it); stdout gets the very bytes --out would write.
            translated = translate_file_data(
                path,
                translator,
                target_lang=target,
                source_lang=source,
                glossary=glossary,
                on_progress=progress,
            )
            print(file=sys.stderr)
            sys.stdout.flush()
            sys.stdout.buffer.write(translated.data)
            sys.stdout.buffer.flush()
            flags = translated.flags
        else:
            translation = translator.translate(
                text,
                target_lang=target,
                source_lang=source,
                glossary=glossary,
                markdown=True,
                on_progress=progress,
            )
            print(file=sys.stderr)
            if args.out:
                # Whole or not at all: an interrupted run leaves no partial file.
                write_atomic(Path(args.out).expanduser(), translation.text)
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
    from app.config.paths import resolve_paths
    from app.config.settings import load_settings
    from app.models.default_model import ensure_default_model
    from inference.sync_client import SyncEngine

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
    # The instructions' KV state is kept beside the chats' (issue 13), one budget.
    kept = settings.kept_states(paths.kv_states_dir, paths.draft_speeds_file)
    return SyncEngine.start(settings.engine_settings(model_path), kept_states=kept)


def _progress_printer() -> Any:
    def show(done: int, total: int, seconds_left: float | None) -> None:
        left = "" if seconds_left is None else f", about {seconds_left:.0f} s left"
        print(f"\rtranslating: {done}/{total} segments{left}   ", end="", file=sys.stderr)

    return show
