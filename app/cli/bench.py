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

from app.cli.bench_progress import StderrProgress
from app.cli.output import fail as _fail
from inference.kv_cache_rules import flash_attn_mode

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


def _flash(text: str) -> str:
    """A flash attention setting: auto, on or off (llama-bench's 1 and 0 too)."""
    return flash_attn_mode({"1": "on", "0": "off"}.get(text.strip().lower(), text.strip()))


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
    # -p, -n and -r default to None: llama-bench's 512/128/5, or --find-threads' short runs.
    bench.add_argument("-p", "--n-prompt", type=_count, help="prompt tokens (default 512)")
    bench.add_argument("-n", "--n-gen", type=_count, help="generated tokens (default 128)")
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
    bench.add_argument(
        "-fa",
        "--flash-attn",
        type=_list_of(_flash, "flash-attn (auto, on or off; 1 or 0)"),
        help="auto, on or off (default: your setting, auto unless changed); the results say "
        "what auto became",
    )
    bench.add_argument("-ctk", "--cache-type-k", type=_list_of(str, "cache-type-k"))
    bench.add_argument("-ctv", "--cache-type-v", type=_list_of(str, "cache-type-v"))
    bench.add_argument("-r", "--repetitions", type=_positive, help="repetitions (default 5)")
    bench.add_argument("--seed", type=int, default=0, help="the random tokens' seed")
    bench.add_argument(
        "--find-threads",
        action="store_true",
        help="try thread counts (1 to the physical cores, and the logical count) for prefill "
        "and for decode, short runs (default -p 128 -n 32 -r 3), and offer to keep the "
        "fastest as the model's settings",
    )
    bench.add_argument(
        "--keep",
        action="store_true",
        help="with --find-threads: keep clear winners without asking",
    )
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

    if args.keep and not args.find_threads:
        return _fail("--keep goes with --find-threads", 2)
    if args.find_threads and args.csv:
        return _fail("--find-threads prints a table or --json", 2)
    if args.find_threads:
        args.n_prompt = 128 if args.n_prompt is None else args.n_prompt
        args.n_gen = 32 if args.n_gen is None else args.n_gen
        args.repetitions = args.repetitions or 3
    else:
        args.n_prompt = 512 if args.n_prompt is None else args.n_prompt
        args.n_gen = 128 if args.n_gen is None else args.n_gen
        args.repetitions = args.repetitions or 5
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
    if args.find_threads:
        from app.cli import bench_threads

        return bench_threads.run(args, model_path)
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
    progress = StderrProgress(sys.stderr)

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
