"""The Models page's one Hub download at a time: start, progress, pause (the partial file
is kept), resume, cancel, and what it ended as.

Threads: `Downloads` lives in the GUI thread; each download runs as a task (app/gui/tasks.py)
on its own thread, its progress and end delivered in the GUI thread. `shutdown` pauses it and
waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject

from app.gui.models.hub import HubBrowser, hub_client
from app.gui.models.installed import InstalledModels
from app.gui.tasks import TaskContext, TaskRunner
from app.models.download import (
    DiskFullError,
    DownloadCancelledError,
    DownloadControl,
    DownloadInterruptedError,
    DownloadPausedError,
    DownloadProgress,
    download_model,
)
from app.models.hub import AuthRequiredError, RemoteModel
from inference.gguf import human_size
from ui.models.page import ModelsPage
from ui.models.rows import DownloadState


@dataclass
class ModelDownload:
    """The running download: what it fetches and how to pause or cancel it."""

    model: RemoteModel
    control: DownloadControl = field(default_factory=DownloadControl)


def progress_text(p: DownloadProgress) -> str:
    total = human_size(p.total_bytes) if p.total_bytes else "?"
    parts = [f"{p.filename}: {human_size(p.done_bytes)} of {total}"]
    if p.speed_bps > 0:
        parts.append(f"{human_size(int(p.speed_bps))}/s")
    if p.eta_s is not None and p.done_bytes < (p.total_bytes or 0):
        eta = p.eta_s
        parts.append(f"about {eta:.0f} s left" if eta < 90 else f"about {eta / 60:.0f} min left")
    return " · ".join(parts)


class Downloads(QObject):
    """How each download ended shows in the Hub panel (installed, paused, cancelled, failed).
    `model` is the one being downloaded, if any."""

    def __init__(
        self,
        page: ModelsPage,
        hub: HubBrowser,
        installed: InstalledModels,
        progress_interval: float,
    ) -> None:
        super().__init__(page)
        self.page = page
        self._hub = hub
        self._installed = installed
        self._models_dir = installed.paths.models_dir
        self._interval = progress_interval
        self._job: ModelDownload | None = None
        self._tasks = TaskRunner(self)
        self._resumable: RemoteModel | None = None
        panel = page.hub
        panel.downloadRequested.connect(self.download)
        panel.pauseRequested.connect(self.pause)
        panel.resumeRequested.connect(self.resume)
        panel.cancelRequested.connect(self.cancel)

    @property
    def model(self) -> RemoteModel | None:
        return self._job.model if self._job is not None else None

    def download(self, key: str) -> None:
        model = self._hub.model(key)
        if model is None or self._job is not None:
            return
        self._start(model)

    def _start(self, model: RemoteModel) -> None:
        job = self._job = ModelDownload(model)
        self._resumable = model
        self.page.hub.show_download(DownloadState("running", f"Starting {model.filename}…"))
        models_dir, interval = self._models_dir, self._interval

        def work(context: TaskContext) -> Path:
            return download_model(
                hub_client(),
                model,
                models_dir,
                on_progress=context.report,
                control=job.control,
                progress_interval=interval,
            )

        # Every failure is worded by _on_finished (paused, cancelled, disk full, Hub errors).
        self._tasks.start(
            work,
            name="models-download",
            expected=(Exception,),
            on_progress=self._on_progress,
            on_result=self._on_finished,
            on_error=self._on_finished,
        )

    def _on_progress(self, progress: DownloadProgress) -> None:
        if self._job is None:
            return
        total = progress.total_bytes or 0
        fraction = progress.done_bytes / total if total else None
        self.page.hub.show_download(DownloadState("running", progress_text(progress), fraction))

    def _on_finished(self, result: Path | Exception) -> None:
        job, self._job = self._job, None
        model = job.model if job is not None else None
        hub = self.page.hub
        if isinstance(result, Path):
            self._resumable = None
            self._installed.register(result)
            hub.show_download(DownloadState("done", f"Installed {result.name}.", 1.0))
            self.page.show_info(f"{result.name} is installed; select it and press Use.")
            if self._hub.remote:
                self._hub.show_remote()
            self._installed.refresh()
            return
        if isinstance(result, DownloadPausedError | DownloadInterruptedError | DiskFullError):
            # The partial file is kept: Resume continues once the network or the disk allows.
            text = "Paused; Resume continues where it stopped."
            if not isinstance(result, DownloadPausedError):
                text = str(result)
            hub.show_download(DownloadState("paused", text, hub.progress.value() / 1000))
        elif isinstance(result, DownloadCancelledError):
            self._resumable = None
            hub.show_download(DownloadState("idle", "Cancelled; the partial file was deleted."))
        else:
            self._resumable = None
            if isinstance(result, AuthRequiredError):
                self._hub.hub_error(result)
            name = model.filename if model else "The download"
            hub.show_download(DownloadState("failed", f"{name}: {result}"))
        if self._hub.remote:
            self._hub.show_remote()  # what was kept for a resume, or that nothing was

    def pause(self) -> None:
        if self._job is not None:
            self._job.control.pause()

    def resume(self) -> None:
        if self._job is None and self._resumable is not None:
            self._start(self._resumable)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.control.cancel()
        elif self._resumable is not None:
            # Paused: a pre-cancelled run deletes the partial file without any network.
            model, self._resumable = self._resumable, None
            self._start(model)
            assert self._job is not None
            self._job.control.cancel()

    def shutdown(self, deadline: float) -> None:
        """Pause a running download (its partial file is kept, so the next Download resumes
        it) and wait for its thread until `deadline` (time.monotonic())."""
        if self._job is not None:
            self._job.control.pause()
        self._tasks.shutdown(deadline)
