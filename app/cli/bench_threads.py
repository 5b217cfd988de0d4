"""`hearth bench --find-threads [MODEL] [--keep]`: the fastest thread counts for prefill and
for decode on this machine (app/models/bench_threads.py), a table of every count tried, the
verdict of each phase, and the offer to keep them as the model's own settings: a question on
a terminal, `--keep` to save without asking. Never keeps a winner whose lead is within the
spread. Progress goes to stderr; Ctrl+C stops between two repetitions."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.cli.bench_progress import StderrProgress
from app.cli.output import fail as _fail
from app.models.bench_threads import Spread, ThreadsFound


def run(args: argparse.Namespace, model_path: Path, *, ask: Callable[[str], str] = input) -> int:
    """The search for `model_path` (its -p/-n/-r already resolved by app.cli.bench), loaded
    with the model's own settings as a chat loads it; `ask` puts the question on a
    terminal."""
    from app.config.paths import resolve_paths
    from app.config.settings import load_settings
    from app.models.bench_threads import ThreadSearch, find_threads, thread_candidates
    from app.models.settings import ModelSettingsStore, engine_settings_for
    from inference.process.cpu_threads import default_thread_counts, physical_cores, usable_cpus
    from inference.sync_client import SyncEngine

    paths = resolve_paths().ensure()
    store = ModelSettingsStore(paths.data_dir)
    own = store.get(model_path)
    base, _sampling, _prompt = engine_settings_for(
        load_settings(paths.settings_file), str(model_path), own
    )
    auto = default_thread_counts()
    current = (base.n_threads or auto.n_threads, base.n_threads_batch or auto.n_threads_batch)
    search = ThreadSearch(
        candidates=thread_candidates(physical_cores(), usable_cpus()),
        n_prompt=args.n_prompt,
        n_gen=args.n_gen,
        rounds=args.repetitions,
        seed=args.seed,
    )
    progress = StderrProgress(sys.stderr)
    stop = threading.Event()
    engine = SyncEngine()

    def on_sigint(*_: object) -> None:
        stop.set()
        engine.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        found = find_threads(
            engine, base, search, current, on_step=progress.step, stopped=stop.is_set
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        engine.close()
        progress.end()
    if all(t.error for t in found.trials):
        return _fail(found.trials[0].error or "no thread count could be measured")
    if not args.json:  # the figures first: the question is about them
        print(threads_table(found, current))
        for pick in (found.decode, found.prefill):
            if pick is not None:
                print(pick.text(), flush=True)
    keep = found.worth_keeping and not found.stopped and _wants(args, found, ask)
    if keep:
        store.put(model_path, found.kept(own))
    if args.json:
        print(json.dumps(_payload(found, current, keep), indent=2))
    else:
        print(_closing(found, keep))
    return 130 if found.stopped else 0


def _wants(args: argparse.Namespace, found: ThreadsFound, ask: Callable[[str], str]) -> bool:
    """--keep, else the user's answer on a terminal; never asked without one (or for JSON)."""
    if args.keep:
        return True
    if args.json or not sys.stdin.isatty():
        return False
    try:
        return ask(found.question()).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _closing(found: ThreadsFound, keep: bool) -> str:
    if found.stopped:
        return "Stopped; nothing was kept."
    if not found.worth_keeping:
        return "No clear winner, keeping the current setting."
    if keep:
        return found.question().replace("Keep", "Kept").split("?")[0] + "."
    return "Not kept (run with --keep to save them as this model's settings)."


def _cell(spread: Spread | None) -> str:
    return f"{spread}" if spread is not None else "-"


def threads_table(found: ThreadsFound, current: tuple[int, int] | None) -> str:
    """A Markdown table, one row per count: prefill and decode t/s (mean ± sd), the fastest
    of each marked with *, the current setting with (now)."""
    lines = ["| threads | prefill t/s | decode t/s |", "| ---: | ---: | ---: |"]
    for trial in found.trials:
        if trial.error:
            lines.append(f"| {trial.threads} | {trial.error} | |")
            continue
        cells = []
        for phase, values in (("prefill", trial.pp_tps), ("decode", trial.tg_tps)):
            pick = found.prefill if phase == "prefill" else found.decode
            text = _cell(Spread.of(values) if values else None)
            if pick is not None and pick.fastest == trial.threads:
                text += " *"
            now = current[1 if phase == "prefill" else 0] if current else None
            if now == trial.threads:
                text += " (now)"
            cells.append(text)
        lines.append(f"| {trial.threads} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _payload(found: ThreadsFound, current: tuple[int, int], kept: bool) -> dict[str, Any]:
    def verdict(pick: Any) -> dict[str, Any] | None:
        if pick is None:
            return None
        return {
            "fastest": pick.fastest,
            "current": pick.current,
            "clear": pick.clear,
            "chosen": pick.chosen,
            "text": pick.text(),
        }

    return {
        "trials": [asdict(t) for t in found.trials],
        "current": {"threads": current[0], "batch_threads": current[1]},
        "decode": verdict(found.decode),
        "prefill": verdict(found.prefill),
        "kept": kept,
        "stopped": found.stopped,
    }
