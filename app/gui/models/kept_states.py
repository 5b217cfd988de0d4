"""The Models page's kept conversation states (issue 13, "Instant resume"): the disk they take,
the budget they may take (a setting) and Clear, on ui/models/kept_states.KeptStatesLine.

What is read when: the folder (inference/state_files.py) is listed on a worker thread (a
lane of app/gui/tasks.py, so reads never overlap) each time the line is shown, and while it
is visible whenever the folder changes: the engine writes a conversation's state just after
its reply, on its own thread, so "after a reply" is when that file lands, not when the reply
ends. A QFileSystemWatcher says so; nothing polls.

A budget chosen here is saved in the settings, applied to the folder at once (least recently
used states go until it fits) and, through the settings, to each running engine at once and
to every later load (app/gui/session.py).

GUI thread only, except the work functions marked "worker thread".
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject

from app.config.settings import Settings
from app.gui.settings_store import SettingsStore
from app.gui.tasks import TaskContext, TaskRunner
from app.models.fit import human_bytes
from inference.state_files import SUFFIX, StateFiles
from ui.models.kept_states import KeptStatesLine

GIB = 1 << 30
# The spin box's ceiling when the disk's size cannot be read.
FALLBACK_MAX_GIB = 1024.0
LANE = "kept-states"


@dataclass(frozen=True)
class Usage:
    """What the folder holds: `bytes` in all (files being written included), `states` the
    finished state files."""

    bytes: int
    states: int


def read_usage(folder: Path, budget_bytes: int, evict: bool = False) -> Usage:
    """Worker thread. With `evict`, first drop least recently used states beyond
    `budget_bytes` (a budget just lowered applies at once, not at the engine's next save)."""
    files = StateFiles(folder, budget_bytes)
    if evict:
        files.evict()
    try:
        states = sum(1 for p in folder.iterdir() if p.name.endswith(SUFFIX))
    except OSError:
        states = 0
    return Usage(files.usage(), states)


def clear_states(folder: Path) -> Usage:
    """Worker thread: delete every kept state; what is left (a state the engine was writing
    meanwhile lands afterwards)."""
    StateFiles(folder).clear()
    return read_usage(folder, 0)


def usage_details(usage: Usage, folder: Path) -> str:
    """The usage line's tooltip."""
    n = usage.states
    count = "No conversation" if n == 0 else f"{n:,} conversation" + ("s" if n > 1 else "")
    return (
        f"{count} kept as the model last read it, in {folder}. Continuing a kept "
        "conversation, even after restarting Hearth or using another chat, starts at once "
        "instead of reading its whole history again."
    )


class KeptStatesPresenter(QObject):
    def __init__(
        self,
        line: KeptStatesLine,
        store: SettingsStore,
        folder: Path,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.line = line
        self.store = store
        self.folder = folder
        self._tasks = TaskRunner(self)
        self._reading = False
        self._again = False  # the folder changed while it was being read
        self._evict_again = False  # and the budget too
        self._clearing = False
        self._budget = self._budget_bytes(store.settings)
        self._show_budget()
        self._watcher = QFileSystemWatcher(self)
        try:
            # Watched before the engine's first state: created here if need be.
            folder.mkdir(parents=True, exist_ok=True)
            self._watcher.addPath(str(folder))
        except OSError:
            pass  # unwritable: the engine keeps nothing there either; shown reads still work
        self._watcher.directoryChanged.connect(self._on_folder_changed)
        line.shown.connect(self.refresh)
        line.clearRequested.connect(self.clear)
        line.budgetChosen.connect(self._choose_budget)
        store.changed.connect(self._on_settings)

    # ---- reading ------------------------------------------------------------------------

    def refresh(self, evict: bool = False) -> None:
        """Read the folder again (at once, or right after the read under way)."""
        if self._reading:
            self._again = True
            self._evict_again = self._evict_again or evict
            return
        self._reading = True
        self._again = False
        folder, budget = self.folder, self._budget
        self._tasks.start(
            lambda _context: read_usage(folder, budget, evict),
            name="kept-states-usage",
            lane=LANE,
            on_result=self._show_usage,
            on_finished=self._read_done,
        )

    def _read_done(self) -> None:
        self._reading = False
        if self._again:
            evict, self._evict_again = self._evict_again, False
            self.refresh(evict)

    def _on_folder_changed(self, _path: str) -> None:
        if self.line.isVisible():
            self.refresh()

    def _show_usage(self, usage: Usage) -> None:
        self.line.show_usage(human_bytes(usage.bytes), usage_details(usage, self.folder))

    # ---- Clear ----------------------------------------------------------------------------

    def clear(self) -> None:
        if self._clearing:
            return
        self._clearing = True
        self.line.set_clearing(True)
        folder = self.folder

        def work(_context: TaskContext) -> Usage:  # worker thread
            return clear_states(folder)

        self._tasks.start(
            work,
            name="kept-states-clear",
            lane=LANE,
            on_result=self._show_usage,
            on_finished=self._clear_done,
        )

    def _clear_done(self) -> None:
        self._clearing = False
        self.line.set_clearing(False)

    # ---- the budget -------------------------------------------------------------------------

    def _budget_bytes(self, settings: Settings) -> int:
        return settings.kept_states(self.folder).budget_bytes

    def _show_budget(self) -> None:
        try:
            disk = shutil.disk_usage(self.folder if self.folder.exists() else self.folder.parent)
            maximum = disk.total / GIB
        except OSError:
            maximum = FALLBACK_MAX_GIB
        self.line.set_budget(round(self._budget / GIB, 1), maximum)

    def _choose_budget(self, gib: float) -> None:
        self.store.update(kv_states_budget_bytes=round(gib * GIB))

    def _on_settings(self, settings: Settings) -> None:
        budget = self._budget_bytes(settings)
        if budget == self._budget:
            return
        self._budget = budget
        self._show_budget()
        self.refresh(evict=True)

    # ---- the end ----------------------------------------------------------------------------

    def shutdown(self, deadline: float) -> None:
        """Stop delivering and wait for a read or Clear under way until `deadline`."""
        self._watcher.blockSignals(True)  # no read starts after this
        self._tasks.shutdown(deadline)
