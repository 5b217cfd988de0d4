"""The Models page's Recommended tab (issue 15): the curated list (app/models/recommended.py)
with each model's fit on this computer, and one click that finds the file on the Hub,
downloads it through the same path as the Hub tab (app.models.download: resumable, checked
against the Hub's SHA-256), registers it and switches the chat to it. It also gives the
built-in model's first-run notice its "Get a better model…" button, which opens this tab.

Threads: GUI thread only; the Hub listing and the download run as one task (app/gui/tasks.py)
whose progress and end come back queued. `shutdown` pauses a running download (its partial
file is kept, so the next click resumes it) and waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PySide6.QtCore import QObject

from app.config.paths import HearthPaths
from app.gui.models.downloads import progress_text
from app.gui.models.hub import hub_client
from app.gui.models.installed import InstalledModels
from app.gui.models.loaded import loaded_path, resolved
from app.gui.models.machine import MachineState
from app.gui.models.views import remote_fit
from app.gui.session import EngineSession
from app.gui.tasks import TaskContext, TaskRunner
from app.models.download import (
    DownloadCancelledError,
    DownloadControl,
    DownloadPausedError,
    DownloadProgress,
    download_model,
    model_folder,
)
from app.models.fit import FitKind
from app.models.hub import RemoteModel
from app.models.recommended import RecommendedModel, load_recommended
from inference.gguf import human_size
from ui.main_window import MainWindow
from ui.models.page import ModelsPage
from ui.models.recommended import RecommendedRow

GET_BETTER_MODEL = "Get a better model…"
# The fit estimate's verdicts in the words this list uses.
FIT_WORDS = {
    FitKind.GPU: "fits on GPU",
    FitKind.PARTIAL: "partial GPU offload",
    FitKind.CPU: "fits in RAM",
    FitKind.WONT_FIT: "too large",
}


def fit_words(size_bytes: int, machine_state: MachineState) -> tuple[str, str]:
    """(cell, details): a recommended model's fit from its size, as the Hub tab estimates a
    file whose header it has not read (app.gui.models.views.remote_fit): weights plus ~10 %
    and a small context's buffers, against free VRAM and RAM."""
    cell, full = remote_fit(size_bytes, machine_state.memory, machine_state.gpu_available())
    kind = next((k for k in FitKind if cell.startswith(f"{k}:")), None)
    if kind is None:  # this computer's memory is not known yet
        return cell, full
    return FIT_WORDS[kind], f"{FIT_WORDS[kind]}: {full.partition(': ')[2]}"


@dataclass
class _Job:
    entry: RecommendedModel
    control: DownloadControl = field(default_factory=DownloadControl)
    model: RemoteModel | None = None  # known once the Hub listed the repository


class RecommendedModels(QObject):
    """`model` is the Hub model being downloaded, if any (its files must not be deleted)."""

    def __init__(
        self,
        window: MainWindow,
        page: ModelsPage,
        session: EngineSession,
        paths: HearthPaths,
        machine: MachineState,
        installed: InstalledModels,
        other_download: Callable[[], RemoteModel | None],
        *,
        list_path: Path | None = None,
        progress_interval: float = 0.1,
    ) -> None:
        """`other_download()`: the Hub tab's download, if one runs (one at a time);
        `list_path`: the recommended list to offer (None: the one shipped with Hearth)."""
        super().__init__(page)
        self.window = window
        self.page = page
        self.panel = page.recommended
        self.session = session
        self.paths = paths
        self._machine = machine
        self._installed = installed
        self._other_download = other_download
        self._interval = progress_interval
        self.entries = load_recommended(list_path).models
        self._job: _Job | None = None
        self._tasks = TaskRunner(self)
        self.panel.getRequested.connect(self.get)
        self.panel.cancelRequested.connect(self.cancel)
        session.loaded.connect(self._on_loaded)
        window.offer_banner_action(GET_BETTER_MODEL)
        window.banner.actionTriggered.connect(self.open_section)
        self.show()

    @property
    def model(self) -> RemoteModel | None:
        return self._job.model if self._job is not None else None

    def _on_loaded(self, _info: object) -> None:
        self.show()  # which model is in use changed

    def open_section(self) -> None:
        """Show this tab (the first-run notice's "Get a better model…")."""
        self.window.show_page(self.page)
        self.page.tabs.setCurrentWidget(self.panel)

    def _target(self, entry: RecommendedModel) -> Path:
        folder = model_folder(self.paths.models_dir, entry.repo_id)
        return folder / PurePosixPath(entry.filename).name

    def _state(self, entry: RecommendedModel) -> str:
        target = self._target(entry)
        if not target.is_file():
            return "available"
        return "in use" if resolved(target) == loaded_path(self.session) else "installed"

    def show(self) -> None:
        """List the models again (fit, installed and in use may have changed)."""
        rows = []
        for entry in self.entries:
            fit, details = fit_words(entry.size_bytes, self._machine)
            rows.append(
                RecommendedRow(
                    key=entry.key,
                    name=entry.name,
                    parameters=entry.parameters,
                    size=human_size(entry.size_bytes),
                    licence=entry.licence,
                    licence_url=entry.licence_url,
                    fit=fit,
                    fit_details=f"{details}; context up to {entry.context_length:,} tokens",
                    description=entry.description,
                    repo_id=entry.repo_id,
                    filename=entry.filename,
                    state=self._state(entry),
                )
            )
        self.panel.show_rows(rows)

    def get(self, key: str) -> None:
        """One click: use the model if it is here, else download, verify and use it."""
        entry = next((e for e in self.entries if e.key == key), None)
        if entry is None or self._job is not None:
            return
        if self._state(entry) != "available":
            self._use(self._target(entry), entry)
            return
        if self._other_download() is not None:
            self.panel.show_progress(
                None,
                "A download is running on the Hugging Face tab; wait for it or pause it first.",
                running=False,
            )
            return
        self._start(entry)

    def _start(self, entry: RecommendedModel) -> None:
        job = self._job = _Job(entry)
        self.panel.show_progress(None, f"Asking Hugging Face for {entry.filename}…", running=True)
        models_dir, interval = self.paths.models_dir, self._interval

        def work(context: TaskContext) -> Path:  # worker thread
            client = hub_client()
            job.model = client.find_model(entry.repo_id, entry.filename)
            return download_model(
                client,
                job.model,
                models_dir,
                on_progress=context.report,
                control=job.control,
                progress_interval=interval,
            )

        # Every failure is worded by _on_finished (cancelled, paused, Hub and disk errors).
        self._tasks.start(
            work,
            name="models-recommended",
            expected=(Exception,),
            on_progress=self._on_progress,
            on_result=self._on_finished,
            on_error=self._on_finished,
        )

    def _on_progress(self, progress: DownloadProgress) -> None:
        total = progress.total_bytes or 0
        fraction = progress.done_bytes / total if total else None
        self.panel.show_progress(fraction, progress_text(progress), running=True)

    def _on_finished(self, result: Path | Exception) -> None:
        job, self._job = self._job, None
        name = job.entry.name if job is not None else "The model"
        if isinstance(result, Path) and job is not None:
            self._installed.register(result)
            self._installed.refresh()
            self._use(result, job.entry)
            return
        if isinstance(result, DownloadPausedError):
            text = f"{name}: paused; the partial file is kept, and the next click resumes it."
        elif isinstance(result, DownloadCancelledError):
            text = f"{name}: cancelled; the partial file was deleted."
        else:
            text = f"{name} was not installed: {result}"
        self.panel.show_progress(None, text, running=False)
        self.show()

    def _use(self, path: Path, entry: RecommendedModel) -> None:
        self.panel.show_progress(
            1.0, f"{entry.name} is installed and verified; the chat switches to it.", running=False
        )
        self.session.switch(str(path))
        self.show()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.control.cancel()

    def shutdown(self, deadline: float) -> None:
        """Pause a running download (its partial file is kept) and wait for its thread
        until `deadline` (time.monotonic())."""
        if self._job is not None:
            self._job.control.pause()
        self._tasks.shutdown(deadline)
