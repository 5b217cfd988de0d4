"""The Models page's "Benchmark…" button: a dialog that runs one llama-bench-style
configuration of the selected model, shows its progress with Stop, and stores the results
for the Performance page's Benchmarks tab.

Which engine runs it, as a user of a desktop app would expect:
- the model the chat has loaded runs on the chat's own engine, as loaded: no second copy
  in memory and no reload (each load setting would be one; that is why the dialog measures
  the model's current settings only, and the grid stays in `hearth bench`). It runs at
  background priority: a message sent meanwhile goes first, and the repetition it
  interrupted runs again (app/models/bench.py), so the figures are never a mix of the two.
  The chat's prompt cache is spent by it; the next reply reads its conversation again
  (or from its saved KV state), which the dialog says.
- any other model gets an engine of its own for the run, closed when it ends, after the
  dialog said that this loads the model a second time and about how much memory that takes
  (the fit estimate of app/models/fit.py). Switching the chat to the model instead would
  throw away the chat's loaded model and surprise the user more than a passing second copy.

Its second mode finds the fastest thread counts (app/models/bench_threads.py). That needs a
load per count, so it always runs in an engine of its own (the chat keeps its model), with
the model's settings as a load would use them; "Keep these" saves clear winners as the
model's own thread settings (announced by ``threadsKept(path)``).

Threads: GUI thread; the run is a task (app/gui/tasks.py) whose progress comes back queued.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.gui.engine_bridge import EngineBridge
from app.gui.models.bench_job import (
    BenchOutcome,
    BenchSizes,
    LoadedModelBench,
    estimate_for,
    one_configuration,
    run_benchmark,
)
from app.gui.models.bench_text import (
    memory_note,
    step_text,
    summary,
    threads_step_text,
    threads_summary,
)
from app.gui.session import EngineSession
from app.gui.tasks import Task, TaskCancelled, TaskContext, TaskRunner
from app.models.bench import BenchEngine, BenchRunner, BenchStep
from app.models.bench_threads import ThreadSearch, ThreadsFound, find_threads, thread_candidates
from app.models.settings import ModelSettingsStore
from inference.gguf import ModelFileError
from inference.process.cpu_threads import default_thread_counts, physical_cores, usable_cpus
from inference.protocol import EngineSettings
from inference.sync_client import EngineError, SyncEngine
from storage.bench import BenchResultRepository
from ui.models.bench_dialog import BenchChoice, BenchDialog
from ui.models.page import ModelsPage

THREADS_NOTE = (
    "Loads the model once per thread count in an engine of its own (the chat keeps its "
    "model); about a minute for a small model."
)
ON_CHAT_ENGINE = (
    "Runs on the chat's engine with the model as it is loaded (no second copy in memory). "
    "A message you send meanwhile goes first; the repetition it interrupts runs again. "
    "The chat's next reply reads its conversation again, as after a model switch."
)


class BenchmarkPresenter(QObject):
    """Signals: ``resultsRequested()`` (the dialog's "See results"), ``stored()`` (a run
    stored results: the Performance page lists them again), ``threadsKept(path)`` (a
    model's thread settings were saved)."""

    resultsRequested = Signal()
    stored = Signal()
    threadsKept = Signal(str)

    def __init__(
        self,
        page: ModelsPage,
        session: EngineSession,
        engine_settings: Callable[[str], EngineSettings],
        repository: BenchResultRepository,
        models_dir: Path,
        *,
        make_engine: Callable[[], BenchEngine] = SyncEngine,
        settings_store: ModelSettingsStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`engine_settings(path)`: how `path` would be loaded (its own settings over the
        app's); `make_engine`: the engine of its own for a model the chat has not loaded (and
        for every thread search); `settings_store`: where "Keep these" saves (None: no
        keeping)."""
        super().__init__(parent)
        self._page = page
        self._session = session
        self._engine_settings = engine_settings
        self._repository = repository
        self._models_dir = models_dir
        self._make_engine = make_engine
        self._tasks = TaskRunner(self)
        self._bridge = EngineBridge(session.client, self, info=session.info)
        self.dialog: BenchDialog | None = None
        self._path = ""
        self._task: Task[BenchOutcome] | None = None
        self._runner: BenchRunner | None = None
        self._settings_store = settings_store
        self._found: ThreadsFound | None = None
        page.benchmarkRequested.connect(self.open)

    def _loaded(self, path: str) -> bool:
        info = self._session.info
        return info is not None and info.path == path

    def open(self, path: str) -> BenchDialog:
        """A dialog for `path` (the running one, brought forward, while a run goes on: one
        benchmark at a time, or the two would measure each other)."""
        if self.dialog is not None and self.dialog.running:
            self.dialog.show()
            self.dialog.raise_()
            return self.dialog
        if self.dialog is not None:  # a fresh one: whether the chat has it loaded may differ
            self.dialog.close()
            self.dialog.deleteLater()
        self._path = path
        info = self._session.info
        name = info.name if info is not None and self._loaded(path) else Path(path).stem
        dialog = self.dialog = BenchDialog(name, self._page)
        dialog.startRequested.connect(self.start)
        dialog.stopRequested.connect(self.stop)
        dialog.resultsRequested.connect(self.resultsRequested)
        dialog.keepRequested.connect(self.keep_threads)
        if self._loaded(path):
            dialog.set_engine_note(ON_CHAT_ENGINE)
        else:
            self._estimate_memory(path, dialog)
        dialog.show()
        return dialog

    def _estimate_memory(self, path: str, dialog: BenchDialog) -> None:
        dialog.set_engine_note(memory_note(None))
        settings, models_dir = self._engine_settings(path), self._models_dir
        n_ctx = 512 + 128 + 4096  # the dialog's defaults; the note gives the order of size

        def shown(note: str) -> None:
            if self.dialog is dialog:
                dialog.set_engine_note(note)

        self._tasks.start(
            lambda _c: memory_note(estimate_for(path, settings, n_ctx, models_dir)),
            name="bench-memory",
            expected=(ModelFileError, OSError),
            on_result=shown,
        )

    def start(self, choice: BenchChoice) -> None:
        dialog, path = self.dialog, self._path
        if dialog is None or self._task is not None:
            return
        if choice.find_threads:
            self._start_threads(dialog, path, choice)
            return
        sizes = BenchSizes(choice.n_prompt, choice.n_gen, choice.depths, choice.repetitions)
        loaded = self._loaded(path)
        info = self._session.info
        # The loaded model is measured as it was loaded, which the settings may no longer say.
        base = (
            self._session.loaded_settings or self._session.choices()[0]
            if loaded
            else self._engine_settings(path)
        )
        plan, notes = one_configuration(sizes, base, info.n_ctx if loaded and info else None)
        bridge, make_engine, repository = self._bridge, self._make_engine, self._repository
        session = self._session
        if loaded:
            bridge.reset_cancel()
            dialog.set_engine_note(ON_CHAT_ENGINE)  # the chat may have switched to it since
        elif dialog.engine_note.text() == ON_CHAT_ENGINE:
            dialog.set_engine_note(memory_note(None))  # ... or away from it

        def work(context: TaskContext) -> BenchOutcome:  # worker thread
            def report(value: object) -> None:
                try:
                    context.report(value)
                except TaskCancelled:
                    pass  # Stop was pressed: the runner ends at its next step by itself

            def keep(runner: BenchRunner) -> None:
                self._runner = runner
                if context.cancelled.is_set():
                    runner.stop()

            owned = None if loaded else make_engine()
            # What the chat has loaded, as its session knows it (the one owner of that fact):
            # the bridge's own copy starts from the session's at build time and can lag it.
            engine = owned or LoadedModelBench(bridge, lambda: session.info, path)
            try:
                return run_benchmark(
                    engine,
                    plan,
                    base,
                    repository,
                    notes=notes,
                    on_step=report,
                    on_line=report,
                    on_runner=keep,
                )
            finally:
                close = getattr(owned, "close", None)
                if close is not None:
                    close()

        dialog.show_running(True)
        dialog.show_step("Starting…", None)
        self._task = self._tasks.start(
            work,
            name="models-benchmark",
            expected=(EngineError, OSError),
            on_progress=lambda value: self._on_progress(dialog, value),
            on_result=lambda outcome: self._on_done(dialog, outcome),
            on_error=lambda exc: dialog.show_failure(str(exc).split("\n", 1)[0]),
            on_finished=lambda: self._on_finished(dialog),
            on_cancel=self._stop_runner,
        )

    def _start_threads(self, dialog: BenchDialog, path: str, choice: BenchChoice) -> None:
        base = self._engine_settings(path)
        auto = default_thread_counts()
        current = (base.n_threads or auto.n_threads, base.n_threads_batch or auto.n_threads_batch)
        search = ThreadSearch(
            thread_candidates(physical_cores(), usable_cpus()),
            choice.n_prompt, choice.n_gen, choice.repetitions,
        )  # fmt: skip
        make_engine = self._make_engine
        self._found = None

        def work(context: TaskContext) -> ThreadsFound:  # worker thread
            engine = make_engine()

            def report(step: BenchStep) -> None:
                try:
                    context.report(step)
                except TaskCancelled:
                    engine.cancel()  # Stop: the search ends at its next batch or token

            try:
                return find_threads(
                    engine, base, search, current,
                    on_step=report, stopped=context.cancelled.is_set,
                )  # fmt: skip
            finally:
                close = getattr(engine, "close", None)
                if close is not None:
                    close()

        dialog.set_engine_note(THREADS_NOTE)
        dialog.show_running(True)
        dialog.show_step("Starting…", None)
        self._task = self._tasks.start(
            work,
            name="models-benchmark",
            expected=(EngineError, OSError),
            on_progress=lambda step: dialog.show_step(*threads_step_text(step, search.candidates)),
            on_result=lambda found: self._on_threads(dialog, found),
            on_error=lambda exc: dialog.show_failure(str(exc).split("\n", 1)[0]),
            on_finished=lambda: self._on_finished(dialog),
        )

    def _on_threads(self, dialog: BenchDialog, found: ThreadsFound) -> None:
        if all(t.error for t in found.trials):
            dialog.show_failure(found.trials[0].error or "No thread count could be measured.")
            return
        self._found = found
        can_keep = found.worth_keeping and not found.stopped and self._settings_store is not None
        dialog.show_threads(threads_summary(found), can_keep)

    def keep_threads(self) -> None:
        """Save the last search's clear winners as the model's own thread settings."""
        found, store, path = self._found, self._settings_store, self._path
        if found is None or store is None or not path:
            return
        try:
            store.put(path, found.kept(store.get(path)))
        except OSError as exc:
            if self.dialog is not None:
                self.dialog.show_failure(f"The settings could not be saved: {exc}.")
            return
        if self.dialog is not None:
            kept = found.question().replace("Keep", "Kept").split("?")[0]
            self.dialog.show_kept(f"{kept}; they apply the next time the model loads.")
        self.threadsKept.emit(path)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            if self.dialog is not None:
                self.dialog.show_step("Stopping…", None)

    def _stop_runner(self) -> None:
        runner = self._runner
        if runner is not None:
            runner.stop()

    def _on_progress(self, dialog: BenchDialog, value: object) -> None:
        if isinstance(value, BenchStep):
            text, fraction = step_text(value)
            dialog.show_step(text, fraction)
        elif isinstance(value, str):
            dialog.add_note(value)

    def _on_done(self, dialog: BenchDialog, outcome: BenchOutcome) -> None:
        if outcome.records:
            self.stored.emit()
        failure = outcome.failure
        if failure is not None:
            dialog.show_failure(failure)
        else:
            dialog.show_done(summary(outcome.records, outcome.stopped), bool(outcome.records))

    def _on_finished(self, dialog: BenchDialog) -> None:
        self._task = None
        self._runner = None
        dialog.show_running(False)

    def busy(self) -> bool:
        return self._tasks.busy()

    def shutdown(self, deadline: float | None = None) -> None:
        """Stop a run (at its next batch or token) and wait for it; a run on the chat's
        engine whose answer never comes is failed so its thread can end."""
        if self.dialog is not None:
            self.dialog.close()
        self._tasks.shutdown(
            deadline if deadline is not None else time.monotonic() + 4.0,
            on_stuck=lambda: self._bridge.abort_pending("Hearth is closing."),
        )
