"""Hearth's start to the window's first paint, with and without pyqtgraph's import (issue 12:
the plots are built lazily, ui/widgets/lazy_widget.py, so start-up no longer imports it).

Run: PYTHONPATH=. .venv/bin/python bench/startup_paint.py [--repeat 8]

Each run is a fresh interpreter (offscreen Qt, a fresh HEARTH_HOME, every page built as
`hearth gui` builds them, the engine not started). One figure per run: time.perf_counter from
just before `import app.gui.main` to the end of the main window's first paint event. Two
kinds of runs, interleaved so that drift on a shared machine hits both alike:

- hearth: as built;
- hearth + import pyqtgraph: the same, with `import pyqtgraph` first, which is what every
  start paid before the plots were built lazily (the baseline of this run).

Also prints, per kind, whether pyqtgraph was imported when the window painted. Prints
median, min and max in ms and the difference of the medians; never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import sys, time
began = time.perf_counter()
{extra}
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
from app.config.paths import resolve_paths
from app.gui.main import build_app

class FirstPaint(QObject):
    at = None
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and self.at is None:
            FirstPaint.at = "pending"
        return False

app = QApplication([])
window, controller, database = build_app(resolve_paths())
watch = FirstPaint()
window.installEventFilter(watch)
window.show()
while FirstPaint.at is None:
    app.processEvents()
painted = time.perf_counter()  # the paint event's pass has returned: it is drawn
print(f"RESULT {{(painted - began) * 1000:.1f}} {{'pyqtgraph' in sys.modules}}")
controller.shutdown()
database.close()
"""
KINDS = {"hearth": "", "hearth + import pyqtgraph": "import pyqtgraph"}


def run(extra: str) -> tuple[float, bool]:
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "QT_QPA_PLATFORM": "offscreen",
            "HEARTH_HOME": home,
        }
        done = subprocess.run(
            [sys.executable, "-c", CHILD.format(extra=extra)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    _, ms, imported = line.split()
    return float(ms), imported == "True"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    run("")  # warm the file cache: the first interpreter reads every module from disk
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    imported: dict[str, bool] = {}
    for _ in range(args.repeat):
        for kind, extra in KINDS.items():
            ms, loaded = run(extra)
            times[kind].append(ms)
            imported[kind] = loaded
    print(f"start to the window's first paint, {args.repeat} interleaved runs each (ms)")
    for kind, values in times.items():
        print(
            f"  {kind:28s} median {statistics.median(values):7.1f} "
            f"[{min(values):.1f}-{max(values):.1f}]  pyqtgraph imported: {imported[kind]}"
        )
    medians = [statistics.median(v) for v in times.values()]
    print(f"  pyqtgraph's import would add {medians[1] - medians[0]:.1f} ms to the median")


if __name__ == "__main__":
    main()
