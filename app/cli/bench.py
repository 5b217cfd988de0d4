"""`hearth bench [MODEL]`: llama-bench-style runs through Hearth's engine, beside llama.cpp's own
counters for the same runs. A table by default (or --json, --csv) on stdout, progress and one
line per failed configuration on stderr; the results are stored. Ctrl+C stops after the
current batch or token and prints what was measured. app/cli/main.py registers it."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from app.cli.output import fail as _fail

T = TypeVar("T")


def _list_of(kind: Callable[[str], T], name: str) -> Callable[[str], tuple[T, ...]]:
    """llama-bench's comma-separated lists ("-t 2,4"), each value converted by `kind`."""

    def parse(text: str) -> tuple[T, ...]:
        try:
            values = tuple(kind(part.strip()) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: not a list of values: {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name}: no value given")
        return values

    return parse


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _switch(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    bench = commands.add_parser(
        "bench",
        help="measure prompt and generation speed as llama-bench does, beside llama.cpp's own "
        "counters",
        description="Lists (comma-separated) make a grid; each configuration runs -r times. "
        "pp: prompt tokens per second; tg: generated tokens per second (mean ± standard "
        "deviation); ratio: Hearth's figure over llama.cpp's own for the same runs.",
    )
    bench.add_argument("model", nargs="?", type=Path, help="GGUF file (default: your model)")
    bench.add_argument("-p", "--n-prompt", type=_count, default=512, help="prompt tokens")
    bench.add_argument("-n", "--n-gen", type=_count, default=128, help="generated tokens")
    bench.add_argument(
        "-d",
        "--depth",
        type=_list_of(_count, "depth"),
        default=(0, 4096),
        help="tokens already in the context (default 0,4096, lowered to fit the model)",
    )
    bench.add_argument("-ngl", "--n-gpu-layers", type=_list_of(int, "n-gpu-layers"))
    bench.add_argument("-t", "--threads", type=_list_of(_positive, "threads"))
    bench.add_argument("-b", "--batch-size", type=_list_of(_positive, "batch-size"))
    bench.add_argument("-fa", "--flash-attn", type=_list_of(_switch, "flash-attn (0 or 1)"))
    bench.add_argument("-ctk", "--cache-type-k", type=_list_of(str, "cache-type-k"))
    bench.add_argument("-ctv", "--cache-type-v", type=_list_of(str, "cache-type-v"))
    bench.add_argument("-r", "--repetitions", type=_positive, default=5)
    bench.add_argument("--seed", type=int, default=0, help="the random tokens' seed")
    formats = bench.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print one JSON object")
    formats.add_argument("--csv", action="store_true", help="print CSV with a header row")
    return bench


def run(args: argparse.Namespace) -> int:
    from app.chat.recovery import open_chat_history
    from app.cli.bench_output import as_csv, as_json, as_table
    from app.config.paths import resolve_paths
    from app.config.settings import load_settings
    from app.models.bench import BenchRunner
    from app.models.bench_grid import BenchPlan
    from app.models.default_model import DefaultModelError, ensure_default_model
    from inference.sync_client import SyncEngine
    from storage.bench import BenchResultRepository
    from storage.errors import DatabaseError

    if args.n_prompt + args.n_gen == 0:
        return _fail("nothing to measure: -p and -n are both 0", 2)
    paths = resolve_paths().ensure()
    settings = load_settings(paths.settings_file)
    try:
        if args.model is not None:
            model_path = args.model.expanduser()
        elif settings.model_path:
            model_path = Path(settings.model_path)
        else:
            model_path = ensure_default_model(paths.models_dir)
    except DefaultModelError as exc:
        return _fail(str(exc))
    base = settings.engine_settings(model_path)
    plan = BenchPlan(
        n_prompt=args.n_prompt,
        n_gen=args.n_gen,
        depths=args.depth,
        n_gpu_layers=args.n_gpu_layers or (base.n_gpu_layers,),
        threads=args.threads or (base.n_threads,),
        n_batch=args.batch_size or (base.n_batch,),
        flash_attn=args.flash_attn or (base.flash_attn,),
        type_k=args.cache_type_k or (base.type_k,),
        type_v=args.cache_type_v or (base.type_v,),
        repetitions=args.repetitions,
        seed=args.seed,
    )
    try:
        database, _note = open_chat_history(paths.database)
    except DatabaseError as exc:
        return _fail(str(exc))
    notes: list[str] = []
    progress = _Progress(sys.stderr)

    def on_line(line: str) -> None:
        notes.append(line)
        progress.line(line)

    engine = SyncEngine()
    runner = BenchRunner(engine, plan, base, on_step=progress.step, on_line=on_line)
    # Ctrl+C ends the running repetition between two batches or tokens, not the engine.
    previous = signal.signal(signal.SIGINT, lambda *_: runner.stop())
    try:
        records = runner.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        engine.close()
        progress.end()
    try:
        records = BenchResultRepository(database).add(records)
    finally:
        database.close()

    if args.json:
        print(as_json(records, runner.run_id, notes, runner.stopped))
    elif args.csv:
        sys.stdout.write(as_csv(records))
    elif records:
        print(as_table(records))
    if runner.stopped:
        return _fail("stopped; the configurations measured so far are shown and stored", 130)
    if records and all(r.error is not None for r in records):
        return 1
    return 0


class _Progress:
    """Progress on stderr: one line rewritten in place on a terminal, else a line per
    configuration and repetition (logs stay short)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = ""
        self._dirty = False

    def step(self, step: Any) -> None:
        where = f"[{step.index}/{step.count}]"
        if step.phase in ("load", "warmup"):
            text = f"{where} {'loading the model' if step.phase == 'load' else 'warming up'}…"
        else:
            text = f"{where} repetition {step.repetition}/{step.repetitions}"
        if self._tty:
            detail = f" {step.phase} {step.done}/{step.total}" if step.total else ""
            self._stream.write("\r\x1b[K" + text + detail)
            self._stream.flush()
            self._dirty = True
        elif text != self._last:
            print(text, file=self._stream, flush=True)
        self._last = text

    def line(self, text: str) -> None:
        self.end()
        print(text, file=self._stream, flush=True)

    def end(self) -> None:
        if self._dirty:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._dirty = False
