"""The "Benchmark this model" dialog: llama-bench's sizes (prompt and generated tokens,
context depths, repetitions), a note on which engine runs it, progress with Stop, one line
when it fails, and a "See results" link once results are stored. Passive: the presenter
(app/gui/models/benchmark.py) starts the run and feeds the display.

A second mode finds the fastest thread counts for prompts and for replies; its verdict shows
with a "Keep these" button when there is a clear winner to keep.

Signals: ``startRequested(BenchChoice)``, ``stopRequested()``, ``resultsRequested()``,
``keepRequested()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.link_label import LinkLabel
from ui.widgets.warning_text import show_warning

HELP_TEXT = (
    "Measures prompt processing (pp: tokens read per second) and generation (tg: tokens "
    "generated per second) as llama-bench does, with this model's own load settings: one "
    "configuration. To compare GPU layers, threads, batch sizes, flash attention or KV cache "
    "types, run <code>hearth bench</code> in a terminal; its results show on the Performance "
    "page too."
)
RESULTS_LINK = '<a href="results">See results</a> on the Performance page'
SPEED, THREADS = "speed", "threads"
# Each mode's sizes: llama-bench's for the speed, short runs for the thread search.
_SIZES = {SPEED: (512, 128, 5), THREADS: (128, 32, 3)}


@dataclass(frozen=True)
class BenchChoice:
    n_prompt: int
    n_gen: int
    depths: tuple[int, ...]
    repetitions: int
    find_threads: bool = False


def parse_depths(text: str) -> tuple[int, ...] | None:
    """ "0, 4096" -> (0, 4096); None when a part is not a whole number ≥ 0."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        return None
    return tuple(dict.fromkeys(int(part) for part in parts))


def _spin(low: int, high: int, value: int, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setGroupSeparatorShown(True)
    return spin


class BenchDialog(QDialog):
    startRequested = Signal(object)
    stopRequested = Signal()
    resultsRequested = Signal()
    keepRequested = Signal()

    def __init__(self, model_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Benchmark {model_name}")
        self.setMinimumWidth(520)
        self._running = False
        title = QLabel(f"<b>{model_name}</b>", self)
        help_label = QLabel(HELP_TEXT, self)
        help_label.setWordWrap(True)
        help_label.setTextFormat(Qt.TextFormat.RichText)
        self.engine_note = QLabel("", self)
        self.engine_note.setWordWrap(True)
        self.prompt_spin = _spin(0, 32768, 512, self)
        self.gen_spin = _spin(0, 8192, 128, self)
        self.depths_edit = QLineEdit("0, 4096", self)
        self.depths_edit.setToolTip(
            "Tokens already in the context before each measurement, comma-separated; "
            "lowered to fit the model's context"
        )
        self.repetitions_spin = _spin(1, 50, 5, self)
        self.mode_combo = QComboBox(self)
        self.mode_combo.addItem("Speed with this model's settings", SPEED)
        self.mode_combo.addItem("Find the fastest thread counts", THREADS)
        self.mode_combo.setToolTip(
            "Thread counts: tries 1 to the number of cores for reading prompts and for "
            "writing replies, each on its own, in an engine of its own"
        )
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        form = QFormLayout()
        form.addRow("Measure:", self.mode_combo)
        form.addRow("Prompt tokens (pp):", self.prompt_spin)
        form.addRow("Generated tokens (tg):", self.gen_spin)
        form.addRow("Context depths:", self.depths_edit)
        form.addRow("Repetitions:", self.repetitions_spin)

        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.status_label.setMinimumHeight(2 * self.status_label.fontMetrics().lineSpacing())
        self.notes_label = QLabel("", self)
        self.notes_label.setWordWrap(True)
        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        show_warning(self.error_label, True)  # a red for the palette, after a theme change too
        self.results_label = LinkLabel(RESULTS_LINK, self)
        self.results_label.setTextFormat(Qt.TextFormat.RichText)
        self.results_label.linkActivated.connect(lambda _link: self.resultsRequested.emit())
        self.start_button = QPushButton("Start", self)
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip(
            "Stop after the current batch or token; what was measured is kept"
        )
        self.close_button = QPushButton("Close", self)
        self.keep_button = QPushButton("Keep these", self)
        self.keep_button.setToolTip("Save the fastest thread counts as this model's settings")
        self.keep_button.hide()
        self.keep_button.clicked.connect(self.keepRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        # Never smaller than its wrapped text: a note or a result line arriving grows it.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(title)
        layout.addWidget(help_label)
        layout.addWidget(self.engine_note)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.results_label)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self._start)
        self.stop_button.clicked.connect(self.stopRequested)
        self.close_button.clicked.connect(self.close)
        for label in (self.error_label, self.results_label, self.notes_label, self.progress):
            label.hide()
        self.show_running(False)

    # ---- the presenter's API -------------------------------------------------------------

    def set_engine_note(self, text: str) -> None:
        self.engine_note.setText(text)
        self._fit()

    def _fit(self) -> None:
        """Grow to the wrapped labels' height: a top-level layout does not follow a label's
        height for its width by itself, and the text would be cut."""
        self.layout().activate()
        height = self.layout().heightForWidth(self.width())
        if height > self.height():
            self.resize(self.width(), height)

    def show_running(self, running: bool) -> None:
        self._running = running
        for field in (self.prompt_spin, self.gen_spin, self.repetitions_spin, self.mode_combo):
            field.setEnabled(not running)
        self.depths_edit.setEnabled(not running and not self.finds_threads)
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.stop_button.setVisible(running)
        if running:
            self.progress.show()
            for label in (self.error_label, self.results_label, self.notes_label, self.keep_button):
                label.hide()
            self.notes_label.clear()
        self._fit()

    def show_step(self, text: str, fraction: float | None) -> None:
        self.status_label.setText(text)
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * min(1.0, max(0.0, fraction))))

    def add_note(self, text: str) -> None:
        lines = [self.notes_label.text(), text] if self.notes_label.text() else [text]
        self.notes_label.setText("\n".join(lines))
        self.notes_label.show()
        self._fit()

    def show_failure(self, line: str) -> None:
        """The one line saying why nothing was measured (it replaces the notes: they
        would repeat it)."""
        self.progress.hide()
        self.notes_label.clear()
        self.notes_label.hide()
        self.status_label.clear()
        self.error_label.setText(line)
        self.error_label.show()
        self._fit()

    def show_done(self, summary: str, stored: bool) -> None:
        self.progress.hide()
        self.status_label.setText(summary)
        self.results_label.setVisible(stored)
        self._fit()

    def show_threads(self, verdict: str, can_keep: bool) -> None:
        """The thread search's table and verdict; "Keep these" when a clear winner differs
        from the current setting."""
        self.progress.hide()
        self.status_label.setText(verdict)
        self.keep_button.setVisible(can_keep)
        self.keep_button.setEnabled(can_keep)
        self._fit()

    def show_kept(self, text: str) -> None:
        self.keep_button.setEnabled(False)
        self.add_note(text)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def finds_threads(self) -> bool:
        return self.mode_combo.currentData() == THREADS

    def _on_mode(self) -> None:
        mode = THREADS if self.finds_threads else SPEED
        n_prompt, n_gen, repetitions = _SIZES[mode]
        self.prompt_spin.setValue(n_prompt)
        self.gen_spin.setValue(n_gen)
        self.repetitions_spin.setValue(repetitions)
        self.depths_edit.setEnabled(mode == SPEED)  # the thread search runs at depth 0
        self.keep_button.hide()

    # ---- internals ------------------------------------------------------------------------

    def _start(self) -> None:
        depths = parse_depths(self.depths_edit.text())
        if depths is None:
            self.show_failure("Context depths: whole numbers separated by commas, e.g. 0, 4096")
            return
        if self.prompt_spin.value() + self.gen_spin.value() == 0:
            self.show_failure("Nothing to measure: prompt and generated tokens are both 0")
            return
        self.error_label.hide()
        self.startRequested.emit(
            BenchChoice(
                self.prompt_spin.value(),
                self.gen_spin.value(),
                depths,
                self.repetitions_spin.value(),
                self.finds_threads,
            )
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window stops a run: nothing else would show its end.
        if self._running:
            self.stopRequested.emit()
        super().closeEvent(event)
