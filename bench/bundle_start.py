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


def one_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(window, ready) in seconds, as the module docstring defines them."""
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    gui = psutil.Process(process.pid)
    window = ready = None
    engine = None
    try:
        while ready is None:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            if time.perf_counter() - began > LIMIT_S:
                raise RuntimeError(f"{command[0]} not ready after {LIMIT_S:.0f} s")
            if engine is None:
                engine = _engine(gui)
                if engine is not None:
                    window = time.perf_counter() - began
            if engine is not None and _maps_model(engine.pid):
                ready = time.perf_counter() - began
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
    assert window is not None
    return window, ready


def _summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"median {statistics.median(ms):7.0f} ms  (min {min(ms):.0f}, max {max(ms):.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "hearth" / "hearth")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.bundle.exists():
        print(f"No bundle at {args.bundle}: run `make bundle` first.")
        return 1
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
        results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for _ in range(args.repeat):
            for kind, command in kinds.items():
                results[kind].append(one_run(command, env))
    print(f"{args.repeat} runs per kind, interleaved (offscreen, built-in model unpacked)")
    for kind, runs in results.items():
        print(f"{kind:>14}  window {_summary([w for w, _ in runs])}")
        print(f"{'':>14}  ready  {_summary([r for _, r in runs])}")
    for index, figure in enumerate(("window", "ready")):
        bundle = statistics.median(r[index] for r in results["bundle"])
        python = statistics.median(r[index] for r in results["python -m app"])
        print(f"bundle / python -m app, {figure}: {bundle / python:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
