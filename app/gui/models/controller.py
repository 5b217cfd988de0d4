"""Wires the Models page to the model manager (app/models), the per-model settings and the
chat's engine. Each part of the page has its own module: the installed models
(installed.py beside this one), the per-model settings and fit (settings_form.py), the loaded
model's truth and memory (loaded.py), the Hub panel (hub.py) and its download
(downloads.py); worker threads are page_tasks.py's, this computer's memory machine.py's.

Threads: GUI thread only; header reads, scans, Hub calls and downloads run on worker
threads and come back through queued signals.

`install_models(window, session, store, paths)` is the entry point the composition root calls.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject

from app.config.paths import HearthPaths
from app.gui.models.benchmark import BenchmarkPresenter
from app.gui.models.connections import ConnectionsPresenter
from app.gui.models.downloads import Downloads
from app.gui.models.hub import HubBrowser
from app.gui.models.installed import InstalledModels
from app.gui.models.kept_states import KeptStatesPresenter
from app.gui.models.loaded import LoadedModel, engine_rss
from app.gui.models.machine import MachineState
from app.gui.models.page_tasks import PageTasks
from app.gui.models.recommended import RecommendedModels
from app.gui.models.settings_form import PerModelSettings
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.models.hub import RemoteModel
from app.models.machine import MachineMemory, detect_machine
from inference.protocol import EngineSettings, Sampling
from storage.bench import BenchResultRepository
from ui.main_window import MainWindow
from ui.models.page import ModelsPage

__all__ = ["ModelsController", "engine_rss", "install_models"]

SHUTDOWN_WAIT_S = 4.5


class ModelsController(QObject):
    """The Models page's parts, wired to each other and to the chat; `shutdown` stops them.
    It announces nothing: what each part did shows on the page itself."""

    def __init__(
        self,
        window: MainWindow,
        session: EngineSession,
        store: SettingsStore,
        paths: HearthPaths,
        page: ModelsPage | None = None,
        *,
        bench_results: BenchResultRepository | None = None,
        machine: MachineMemory | None = None,
        gpu_available: bool | None = None,
        progress_interval: float = 0.1,
        recommended_list: Path | None = None,
    ) -> None:
        """`session`: the app's engine session (the chat's model); `store`: the app-wide
        settings the per-model ones fall back on. `machine`: this computer's memory as the
        fit estimates assume it (None: detected on a worker thread). `gpu_available`: whether
        this llama.cpp can offload (None: learnt from the loaded model). `bench_results`:
        where the Benchmark… button stores its runs (None: no benchmark button).
        `recommended_list`: the Recommended tab's list (None: the one shipped with Hearth)."""
        super().__init__(window)
        self.window = window
        self.page = page = page or ModelsPage()
        self._machine = MachineState(session, machine, gpu_available)
        self._tasks = PageTasks(self)
        self._closed = False
        self.installed = InstalledModels(
            window, page, session, paths, self._tasks, self._downloading
        )
        self.settings = PerModelSettings(
            page, session, store, paths, self._tasks, self._machine, self.installed.entry,
            self.installed.entries,
        )  # fmt: skip
        self.loaded = LoadedModel(
            window, page, session, paths, self.settings.store, self.settings.engine_settings
        )
        self.hub = HubBrowser(page, store, paths, self._tasks, self._machine, self._downloading)
        self.downloads = Downloads(page, self.hub, self.installed, progress_interval)
        self.installed.deleted.connect(self.settings.forget)
        # Issue 15: the curated list, one click to download, verify and use.
        self.recommended = RecommendedModels(
            window,
            page,
            session,
            paths,
            self._machine,
            self.installed,
            lambda: self.downloads.model,
            list_path=recommended_list,
            progress_interval=progress_interval,
        )
        self.kept_states = KeptStatesPresenter(
            page.kept_states, store, paths.kv_states_dir, parent=self
        )
        self.benchmark: BenchmarkPresenter | None = None
        if bench_results is not None:
            self.benchmark = BenchmarkPresenter(
                page,
                session,
                lambda path: self.settings.engine_settings(path)[0],
                bench_results,
                paths.models_dir,
                settings_store=self.settings.store,
                parent=self,
            )
            self.benchmark.threadsKept.connect(self.settings.refill)
        page.benchmark_button.setVisible(self.benchmark is not None)
        # Remote servers' models beside the local ones in the chat's choice (issue 14).
        self.connections = ConnectionsPresenter(
            page.connections, store, window.model_picker, self._tasks, parent=self
        )
        if machine is None:
            self._tasks.run("machine", detect_machine, self._on_machine, lambda _exc: None)
        self.refresh()

    def _downloading(self) -> RemoteModel | None:
        return self.downloads.model or self.recommended.model

    def _on_machine(self, machine: MachineMemory) -> None:
        if self._machine.memory is None:
            self._machine.memory = machine
            self.settings.refit()
            if self.hub.remote:
                self.hub.show_remote()
            self.recommended.show()

    def refresh(self) -> None:
        """List the installed models again (the table and the chat page's picker)."""
        self.installed.refresh()

    def engine_settings(self, model_path: str) -> tuple[EngineSettings, Sampling, str | None]:
        return self.settings.engine_settings(model_path)

    def shutdown(self) -> None:
        """Stop work within ~5 s: a running download is paused (its partial file is kept, so
        the next Download resumes it) and every thread is joined."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        if self.benchmark is not None:
            self.benchmark.shutdown(deadline)
        self.downloads.shutdown(deadline)
        self.recommended.shutdown(deadline)
        self.kept_states.shutdown(deadline)
        self._tasks.close(deadline)


def install_models(
    window: MainWindow,
    session: EngineSession,
    store: SettingsStore,
    paths: HearthPaths,
    bench_results: BenchResultRepository | None = None,
) -> ModelsController:
    """Build the Models page, add it to the window and return its controller."""
    page = ModelsPage()
    window.add_page("Models", page)
    return ModelsController(window, session, store, paths, page, bench_results=bench_results)
