"""The PyInstaller bundle's start against `make run`'s (python -m app), measured the same way.

Run (after `make bundle`):
    PYTHONPATH=. .venv/bin/python bench/bundle_start.py [--bundle dist/hearth/hearth] [--repeat 5]

Each run starts the whole desktop app, as a person does, in a fresh process with offscreen Qt
and one HEARTH_HOME shared by all runs (prepared first: the built-in model is unpacked once,
so no run pays that copy). Nothing is injected into the app (the bundle has no Python to
inject into); both figures are read from outside, from /proc, polled every 5 ms:

- window: time.perf_counter from just before the process is started to the moment its engine
  process exists. run_window() shows the window and then starts the chat controller, whose
  first act is to load the chosen model, i.e. to spawn the engine: so the window has been
  built and shown (its first paint is the next event-loop turn).
- ready: from the same start to the moment the engine process has the model file mapped
  (/proc/PID/maps names the .gguf): the model is loading, the app can answer shortly.

Kinds, interleaved so that drift on a shared machine hits both alike:
- python -m app: what `make run` starts (.venv/bin/hearth is the same entry point);
- bundle: dist/hearth/hearth.

Prints per kind the median, min and max in ms, and bundle/python ratios of the medians;
never asserts. Each run is ended with SIGTERM once ready (then SIGKILL after 10 s), and the
script checks that no engine process outlives its GUI.

--first-start: the bundle's first start on a new machine against a later start. Each
repetition makes a fresh HEARTH_HOME, starts the bundle (first), ends it once ready, and
starts it again on that home (later). A first start has no built-in model unpacked: the
window, once shown, assembles it from the packaged chunks (250 MB copied and hashed, then a
marker written) and only then spawns the engine, so "window" cannot be read on a first start.
Its figures, all from the same start as above, read from the models folder and /proc:
- unpack begins: the assembly's models/*.partial file exists (the task run_window starts right
  after showing the window: the window's own time, which on a fresh home includes creating
  the database with its migrations, plus a thread start);
- unpacked: the assembled model's .verified.json marker exists (copied, hashed, renamed);
- ready: as above (the engine has the model mapped).
The later start's window and ready are defined as above. Prints medians (min, max) and the
first/later ratio of ready.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
POLL_S = 0.005
LIMIT_S = 120.0


def _engine(gui: psutil.Process) -> psutil.Process | None:
    try:
        for child in gui.children(recursive=True):
            if "--multiprocessing-fork" in " ".join(child.cmdline()):
                return child
    except psutil.Error:
        pass
    return None


def _maps_model(pid: int) -> bool:
    try:
        return ".gguf" in Path(f"/proc/{pid}/maps").read_text(errors="replace")
    except OSError:
        return False


def _models_file(models: Path | None, pattern: str) -> bool:
    return models is not None and any(models.glob(pattern))


def one_run(
    command: list[str], env: dict[str, str], models: Path | None = None
) -> dict[str, float]:
    """Seconds from start to each mark the module docstring defines: "window" (the engine
    exists), "ready", and with `models` (the run's models folder) "unpack begins" and
    "unpacked" when the run assembles the built-in model."""
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    gui = psutil.Process(process.pid)
    marks: dict[str, float] = {}
    engine = None
    try:
        while "ready" not in marks:
            now = time.perf_counter() - began
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            if now > LIMIT_S:
                raise RuntimeError(f"{command[0]} not ready after {LIMIT_S:.0f} s")
            if "unpack begins" not in marks and _models_file(models, "*.partial"):
                marks["unpack begins"] = now
            if "unpacked" not in marks and _models_file(models, "*.verified.json"):
                marks["unpacked"] = now
            if engine is None:
                engine = _engine(gui)
                if engine is not None:
                    marks["window"] = now
            if engine is not None and _maps_model(engine.pid):
                marks["ready"] = time.perf_counter() - began
            time.sleep(POLL_S)
    finally:
        children = gui.children(recursive=True) if process.poll() is None else []
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _, alive = psutil.wait_procs(children, timeout=10)
        for leftover in alive:
            print(f"  an engine process outlived its GUI: {leftover.pid}; killing it")
            leftover.kill()
    return marks


def _summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"median {statistics.median(ms):7.0f} ms  (min {min(ms):.0f}, max {max(ms):.0f})"


def first_starts(bundle: Path, repeat: int) -> None:
    """--first-start: see the module docstring."""
    first: list[dict[str, float]] = []
    later: list[dict[str, float]] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="hearth-first-start-") as home:
            env = {**os.environ, "HEARTH_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
            env.pop("PYTHONPATH", None)  # the bundle carries its own
            models = Path(home) / "models"
            first.append(one_run([str(bundle)], env, models))
            later.append(one_run([str(bundle)], env, models))
    print(f"{repeat} first starts (fresh HEARTH_HOME each), each followed by a later start")
    for mark in ("unpack begins", "unpacked", "ready"):
        values = [run[mark] for run in first if mark in run]
        if len(values) < len(first):
            print(f"  first start: {mark!r} missed in {len(first) - len(values)} runs")
        if values:
            print(f"  first start  {mark:>13}  {_summary(values)}")
    unpack = [
        r["unpacked"] - r["unpack begins"]
        for r in first
        if {"unpacked", "unpack begins"} <= r.keys()
    ]
    if unpack:
        print(f"  first start  {'unpack itself':>13}  {_summary(unpack)}")
    for mark in ("window", "ready"):
        print(f"  later start  {mark:>13}  {_summary([run[mark] for run in later])}")
    ratio = statistics.median(r["ready"] for r in first) / statistics.median(
        r["ready"] for r in later
    )
    print(f"first / later start, ready: {ratio:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "hearth" / "hearth")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--first-start",
        action="store_true",
        help="the bundle's first start (fresh HEARTH_HOME) against a later one",
    )
    args = parser.parse_args()
    if not args.bundle.exists():
        print(f"No bundle at {args.bundle}: run `make bundle` first.")
        return 1
    if args.first_start:
        first_starts(args.bundle, args.repeat)
        return 0
    with tempfile.TemporaryDirectory(prefix="hearth-bundle-start-") as home:
        env = {
            **os.environ,
            "HEARTH_HOME": home,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(ROOT),
        }
        kinds = {
            "python -m app": [sys.executable, "-m", "app"],
            "bundle": [str(args.bundle)],
        }
        # The first start unpacks the built-in model (250 MB): done once, not measured.
        subprocess.run(
            [str(args.bundle), "chat", "Hi", "--max-tokens", "1"],
            env=env,
            check=True,
            capture_output=True,
        )
        results: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        for _ in range(args.repeat):
            for kind, command in kinds.items():
                results[kind].append(one_run(command, env))
    print(f"{args.repeat} runs per kind, interleaved (offscreen, built-in model unpacked)")
    for kind, runs in results.items():
        print(f"{kind:>14}  window {_summary([r['window'] for r in runs])}")
        print(f"{'':>14}  ready  {_summary([r['ready'] for r in runs])}")
    for figure in ("window", "ready"):
        bundle = statistics.median(r[figure] for r in results["bundle"])
        python = statistics.median(r[figure] for r in results["python -m app"])
        print(f"bundle / python -m app, {figure}: {bundle / python:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
