"""Start-up does not pay for what it does not show (issue 12): the window, all its pages built,
paints without importing pyqtgraph (~0.1 s); the plots import it once they have something to
show.
Run in a fresh interpreter, since this test process has long imported it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication, QWidget
from app.config.paths import resolve_paths
from app.gui.main import build_app

app = QApplication([])
window, controller, database = build_app(resolve_paths())
window.show()
for _ in range(20):
    app.processEvents()
print("at start:", "pyqtgraph" in sys.modules)
[page] = [p for p in window.findChildren(QWidget) if type(p).__name__ == "PerformancePage"]
window.show_page(page)
for _ in range(20):
    app.processEvents()
print("on the Performance page with no replies:", "pyqtgraph" in sys.modules)
page.speed_plots()
print("once its plots are built:", "pyqtgraph" in sys.modules)
controller.shutdown()
database.close()
"""


def test_the_window_paints_without_importing_pyqtgraph(hearth_home: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "at start: False" in done.stdout
    assert "on the Performance page with no replies: False" in done.stdout  # nothing to plot
    assert "once its plots are built: True" in done.stdout
