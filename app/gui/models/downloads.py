"""The Models page's one Hub download at a time: start, progress, pause (the partial file
is kept), resume, cancel, and what it ended as.

Threads: `Downloads` lives in the GUI thread; each `ModelDownload` runs on its own thread and
reports through its signals, queued to the GUI thread. `shutdown` pauses and joins it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from app.gui.models.hub import HubBrowser, hub_client
from app.gui.models.installed import InstalledModels
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


class ModelDownload(QObject):
    """One model download on its own thread. Signals (queued to the GUI thread):
    ``progressed(DownloadProgress)``, ``finished(path or exception)``."""

    progressed = Signal(object)
    finished = Signal(object)

    def __init__(self, model: RemoteModel, models_dir: Path, interval: float) -> None:
        super().__init__()
        self.model = model
        self.control = DownloadControl()
        self._models_dir = models_dir
        self._interval = interval
        self.thread = threading.Thread(target=self._run, name="models-download", daemon=True)

    def _run(self) -> None:
        try:
            client = hub_client()
            path = download_model(
                client,
                self.model,
                self._models_dir,
                on_progress=self.progressed.emit,
                control=self.control,
                progress_interval=self._interval,
            )
        except Exception as exc:
            self.finished.emit(exc)
        else:
            self.finished.emit(path)


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
    """Signals: ``finished(path)`` (the installed path, or "" when the download failed, was
    paused or cancelled). `model` is the one being downloaded, if any."""

    finished = Signal(str)

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
        job = ModelDownload(model, self._models_dir, self._interval)
        job.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        job.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._job = job
        self._resumable = model
        self.page.hub.show_download(DownloadState("running", f"Starting {model.filename}…"))
        job.thread.start()

    def _on_progress(self, progress: DownloadProgress) -> None:
        if self._job is None:
            return
        total = progress.total_bytes or 0
        fraction = progress.done_bytes / total if total else None
        self.page.hub.show_download(DownloadState("running", progress_text(progress), fraction))

    def _on_finished(self, result: Path | Exception) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.thread.join()
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
            self.finished.emit(str(result))
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
        self.finished.emit("")

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
        job = self._job
        if job is not None:
            job.control.pause()
            job.thread.join(max(0.0, deadline - time.monotonic()))
