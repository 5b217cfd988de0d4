"""`hearth summarize FILE`: progress on stderr, the summary on stdout (streamed as the final
pass writes it), or with --json one object with summary, citations and timing.

app/cli/main.py registers it with `add_parser(commands)` and dispatches to `run(args)`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.backend_options import BackendError, add_backend_options, check_backend_options
from app.documents.options import LENGTH_WORDS, STYLES, SummaryOptions
from app.documents.progress import Progress

if TYPE_CHECKING:
    from inference.backends.remote import RemoteEngine

# A progress line at most this often on a terminal log; a status line is not a log file.
_PROGRESS_EVERY_S = 0.5


def _length(value: str) -> str | int:
    if value in LENGTH_WORDS:
        return value
    try:
        words = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected short, medium, long or a number of words, not {value!r}"
        ) from None
    if not 10 <= words <= 5000:
        raise argparse.ArgumentTypeError("a word target must be between 10 and 5000")
    return words


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the `summarize` command to an argparse subparsers object."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "summarize",
        help="summarize a document of any length (PDF, DOCX, ODT, EPUB, HTML, Markdown, text)",
    )
    parser.add_argument("file", type=Path, help="the document")
    parser.add_argument(
        "--length", type=_length, default="medium", help="short, medium, long or a word target"
    )
    parser.add_argument("--style", choices=STYLES, default="bullets")
    parser.add_argument("--language", default="en", help="output language, an ISO code (en, fr…)")
    parser.add_argument("--model", type=Path, help="GGUF model file (default: from settings)")
    parser.add_argument("--n-ctx", type=int, default=None, help="context size in tokens")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_backend_options(parser)
    parser.set_defaults(command="summarize")
    return parser


def _fail(message: str, code: int = 1) -> int:
    print(f"hearth: error: {message}", file=sys.stderr)
    return code


class _ProgressPrinter:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.phase not in ("done", "final") and now - self._last < _PROGRESS_EVERY_S:
            return
        self._last = now
        left = "" if progress.seconds_left is None else f", ~{progress.seconds_left:.0f} s left"
        print(
            f"[{progress.phase}] chunks {progress.chunks_done}/{progress.chunks_total}, "
            f"requests {progress.requests_done}/{progress.requests_total}, "
            f"tokens {progress.tokens_in} in / {progress.tokens_out} out{left}",
            file=self._stream,
            flush=True,
        )


def run(args: argparse.Namespace) -> int:
    from app.chat.recovery import open_chat_history
    from app.config.paths import resolve_paths
    from app.config.settings import load_settings
    from app.documents.extract import extract_document
    from app.documents.model import DocumentError
    from app.documents.summarizer import Summarizer
    from app.documents.summary_json import citation_json
    from app.documents.summary_types import SummaryCancelled, SummaryError
    from app.models.default_model import DefaultModelError, ensure_default_model
    from inference.sync_client import EngineError, SyncEngine
    from storage.documents import DocumentRepository
    from storage.errors import DatabaseError

    if (problem := check_backend_options(args)) is not None:
        return _fail(problem, 2)
    try:
        options = SummaryOptions(length=args.length, style=args.style, language=args.language)
    except ValueError as exc:
        return _fail(str(exc), 2)
    try:
        document = extract_document(args.file.expanduser())
    except DocumentError as exc:
        return _fail(str(exc))

    paths = resolve_paths().ensure()
    settings = load_settings(paths.settings_file)
    remote = args.backend is not None  # then no local model is looked for, let alone loaded
    if not remote:
        if args.model is not None:
            model_path = args.model.expanduser()
        elif settings.model_path:
            model_path = Path(settings.model_path)
        else:
            try:
                model_path = ensure_default_model(paths.models_dir)
            except DefaultModelError as exc:
                return _fail(str(exc))
        engine_settings = replace(
            settings.engine_settings(model_path), n_ctx=args.n_ctx or settings.n_ctx
        )
    try:
        database, _note = open_chat_history(paths.database)
    except DatabaseError as exc:
        return _fail(str(exc))
    try:
        repository = DocumentRepository(database)
        repository.upsert(**document.library_fields())
        engine: SyncEngine | RemoteEngine
        if remote:
            from app.cli.backend_options import open_remote

            print(f"Asking {args.backend} for {document.title!r}…", file=sys.stderr, flush=True)
            engine = open_remote(args, model=args.model)
        else:
            print(f"Loading the model for {document.title!r}…", file=sys.stderr, flush=True)
            # The instructions' KV state is kept beside the chats' (issue 13), one budget.
            kept = settings.kept_states(paths.kv_states_dir, paths.draft_speeds_file)
            engine = SyncEngine.start(engine_settings, kept_states=kept)
        with engine:
            summarizer = Summarizer(engine, repository)
            streamed: list[str] = []

            def on_delta(text: str) -> None:
                streamed.append(text)
                if not args.json:
                    sys.stdout.write(text)
                    sys.stdout.flush()

            previous = _install_sigint(summarizer.cancel)
            try:
                result = summarizer.summarize(
                    document,
                    options,
                    on_progress=_ProgressPrinter(sys.stderr),
                    on_delta=on_delta,
                )
            finally:
                _restore_sigint(previous)
    except SummaryCancelled:
        return _fail("cancelled; run the same command again to resume", 130)
    except (SummaryError, EngineError, BackendError) as exc:
        return _fail(str(exc))
    finally:
        database.close()

    if args.json:
        payload = {
            "summary": result.text,
            "citations": [citation_json(c) for c in result.citations],
            "title": document.title,
            "file": document.source_path,
            "from_cache": result.from_cache,
            "echo_note": result.echo_note,
            "timing": {
                "chunks": result.chunks,
                "levels": result.levels,
                "requests": len(result.requests),
                "reused": result.reused,
                "tokens_in": result.tokens_in,
                "tokens_out": result.tokens_out,
                "seconds": round(result.seconds, 3),
                "tokens_per_second": round(result.tokens_per_second, 2),
            },
        }
        print(json.dumps(payload, ensure_ascii=False))
    else:
        sys.stdout.write("\n")
        print(
            f"[{result.chunks} chunks · {result.tokens_in} tokens in · {result.tokens_out} out · "
            f"{result.seconds:.1f} s · {result.tokens_per_second:.1f} tok/s"
            f"{' · from the library' if result.from_cache else ''}]",
            file=sys.stderr,
        )
        if result.echo_note:  # what streamed above still held it; the stored summary does not
            print(f"hearth: {result.echo_note}", file=sys.stderr)
    return 0


def _install_sigint(cancel: Any) -> Any:
    # Ctrl+C cancels the job (its finished parts are kept) instead of killing the engine.
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, lambda _signum, _frame: cancel())


def _restore_sigint(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
