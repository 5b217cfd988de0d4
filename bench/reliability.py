"""Reliability, proven at N repetitions (issue 15). Runs for minutes; not part of the suite
(tests/reliability/ runs a few of the same runs).

Run: PYTHONPATH=. .venv/bin/python bench/reliability.py [--runs 100] [--part engine|app|both]
     [--model PATH] [--seed 15]

Part "engine": one real window (offscreen, every page), the engine killed with SIGKILL,
SIGSEGV and SIGABRT in turn, each at one of three kinds of moment in turn (before the first
token: as the request leaves the window or when the engine began the prompt; a random delay
within the first 60% of a reply; right after a random k-th piece of text). Counted per run:
- window up: the window reports the signal in plain words and is ready for the next message;
- interrupted saved: the reply's row is stored interrupted with exactly the text the window
  received, and the window shows the interrupted note;
- next message answered: a second message in that chat gets a complete reply from an engine
  process with another pid.
Part "app": the whole app (tests/support/app_driver.py, a process of its own on one data
folder) SIGKILLed at a random delay within the first 80% of a reply, after it logged "sent".
Counted per run:
- integrity ok: `PRAGMA integrity_check` of the file left is "ok";
- lost text, seconds: from the moment the first piece of text missing from the store reached
  the window to the kill (0 when every piece shown is stored), see app_kills.lost_seconds;
- shown interrupted on the next start: the next run's start finds the reply stored interrupted
  and the chat on screen says so;
- orphan engines: processes of the killed app still running 5 s after the kill.
A kill that lands after its reply ended (a busy machine can make a reply shorter than the
measured one) is counted apart, not as a pass or a failure.

The default model is the suite's tiny random-weight model (it rambles ~2,000 tokens, about
1-2 s of streaming here); --model runs on another GGUF, e.g. the built-in Gemma (then the
prompt asks for a long story; --prompt and --max-tokens change that).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HEARTH_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def engine_part(
    runs: int, model: Path, settings: dict[str, object], seed: int, home: Path, prompt: str
) -> None:
    from PySide6.QtWidgets import QApplication

    from app.config.paths import resolve_paths
    from app.config.settings import Settings, save_settings
    from app.gui.main import build_app
    from storage.chats import MessageRepository
    from tests.support.engine_kills import kill_engine_once, measure_reply, plan_kills, pump_until

    os.environ["HEARTH_HOME"] = str(home)
    app = QApplication.instance() or QApplication([])
    paths = resolve_paths()
    save_settings(paths.settings_file, Settings(model_path=str(model), **settings))  # type: ignore[arg-type]
    window, controller, database = build_app(paths)
    window.show()
    controller.start()
    pump_until(lambda: controller.session.info is not None, 120, "the model")
    shapes = [measure_reply(window, controller, 120, prompt) for _ in range(2)]
    shape = min(shapes, key=lambda s: s.duration_s)
    print(
        f"engine part: reply to measure {shape.duration_s:.2f} s, first text after "
        f"{shape.first_token_s * 1000:.0f} ms, {shape.deltas} pieces of text"
    )
    messages = MessageRepository(database)
    outcomes = []
    started = time.monotonic()
    for i, plan in enumerate(plan_kills(runs, shape, random.Random(seed))):
        outcome = kill_engine_once(window, controller, messages, plan, 120, prompt)
        outcomes.append(outcome)
        if outcome.problems:
            print(f"  run {i + 1}: {plan} {outcome.problems}")
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{runs} runs, {time.monotonic() - started:.0f} s")
    controller.shutdown()
    database.close()
    app.processEvents()
    mid = [o for o in outcomes if o.mid_reply]
    before_first = [o for o in mid if o.text_before_kill == 0]
    print(f"engine part, {runs} runs ({len(mid)} kills mid-reply, {len(before_first)} of them")
    print("  before any text reached the window):")
    print(f"  window up              {sum(o.window_up for o in outcomes)}/{runs}")
    print(f"  interrupted saved      {sum(o.interrupted_saved for o in mid)}/{len(mid)}")
    print(f"  next message answered  {sum(o.next_answered for o in outcomes)}/{runs}")
    for sig in sorted({o.plan.signal for o in outcomes}):
        these = [o for o in mid if o.plan.signal == sig]
        print(f"    {sig.name}: {sum(o.passed for o in these)}/{len(these)} passed")
    print(f"  kills after the reply ended (not counted): {runs - len(mid)}")


def app_part(
    runs: int, model: Path, settings: dict[str, object], seed: int, home: Path, prompt: str
) -> None:
    from tests.support.app_kills import AppKiller

    killer = AppKiller(home, model, settings, prompt)
    duration = min(killer.measure_reply() for _ in range(2))
    print(f"app part: a reply streams for {duration:.2f} s (from 'sent' to its last text)")
    rng = random.Random(seed)
    outcomes = []
    started = time.monotonic()
    for i in range(runs):
        outcomes.append(killer.kill_once(rng.uniform(0, 0.8 * duration)))
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{runs} runs, {time.monotonic() - started:.0f} s")
    killer.last_start()
    for i, outcome in enumerate(outcomes):  # the next start adds to a run's problems
        if outcome.problems:
            print(f"  run {i + 1}: {outcome}")
    mid = [o for o in outcomes if o.mid_reply]
    lost = sorted(o.lost_s for o in mid)
    print(f"app part, {runs} runs ({len(mid)} kills mid-reply):")
    print(f"  integrity ok              {sum(o.integrity_ok for o in outcomes)}/{runs}")
    print(f"  stored text = text shown  {sum(o.stored_is_prefix for o in outcomes)}/{runs}")
    print("    (its start: a prefix of what reached the window)")
    print(f"  interrupted on next start {sum(bool(o.shown_interrupted) for o in mid)}/{len(mid)}")
    print(f"  orphan engines            {sum(len(o.engines_left) for o in outcomes)}")
    if lost:
        quartiles = statistics.quantiles(lost, n=4) if len(lost) > 1 else [lost[0]] * 3
        print(
            f"  lost text, s: min {lost[0]:.2f}, median {statistics.median(lost):.2f}, "
            f"p75 {quartiles[2]:.2f}, p95 {lost[int(0.95 * (len(lost) - 1))]:.2f}, "
            f"max {lost[-1]:.2f}"
        )
        print(f"  runs with nothing lost    {sum(x == 0 for x in lost)}/{len(lost)}")
    print(f"  kills after the reply ended (not counted): {runs - len(mid)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--part", choices=("engine", "app", "both"), default="both")
    parser.add_argument("--model", type=Path, help="a GGUF (default: the tiny test model)")
    parser.add_argument("--max-tokens", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--prompt",
        help="the message whose reply is killed (default: one the tiny model rambles on)",
    )
    args = parser.parse_args()

    from tests.support.engine_kills import PROMPT, RAMBLING_SETTINGS, build_kill_model

    prompt = args.prompt or (PROMPT if args.model is None else "Write a long story about a dragon.")

    with tempfile.TemporaryDirectory(prefix="hearth-reliability-") as tmp:
        folder = Path(tmp)
        settings = {**RAMBLING_SETTINGS, "max_tokens": args.max_tokens}
        model = args.model or build_kill_model(folder / "rambling.gguf")
        if args.model is not None:
            settings["n_ctx"] = 4096
        if args.part in ("engine", "both"):
            engine_part(args.runs, model, settings, args.seed, folder / "engine-home", prompt)
        if args.part in ("app", "both"):
            app_part(args.runs, model, settings, args.seed, folder / "app-home", prompt)


if __name__ == "__main__":
    main()
