"""Wires the Models page to the model manager (app/models), the per-model settings and the
chat's engine. GUI thread only; header reads, scans, Hub calls and downloads run on worker
threads (`_Jobs`, `_Download`) and come back through queued signals.

`install_models(window, chat)` is the entry point the composition root calls.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from app.chat_controller import ChatController
from app.model_metadata import read_metadata
from app.model_settings import (
    AUTO,
    CUSTOM,
    ModelSettings,
    ModelSettingsStore,
    engine_settings_for,
)
from app.model_views import (
    READING_HEADER,
    RemoteFitInput,
    fit_view,
    found_row,
    installed_row,
    loaded_view,
    remote_row,
    repo_row,
    settings_from_values,
    settings_values,
)
from app.models.catalog import (
    ModelEntry,
    describe,
    import_model,
    list_installed,
    remove_import,
    scan_known_folders,
)
from app.models.download import (
    DiskFullError,
    DownloadCancelledError,
    DownloadControl,
    DownloadInterruptedError,
    DownloadPausedError,
    DownloadProgress,
    download_model,
    model_folder,
    resumable_bytes,
)
from app.models.fit import auto_gpu_layers, evaluate_fit
from app.models.gguf_layout import ModelLayout, read_layout
from app.models.hub import AuthRequiredError, HubClient, HubError, RemoteModel
from app.models.machine import MachineMemory, detect_machine
from app.models.remote_header import read_remote_layout
from app.models.removal import delete_model_files, files_to_delete, why_not_delete
from app.models.tokens import TokenStoreError, delete_token, load_token, save_token
from inference.gguf_validate import ModelFileError, human_size
from inference.prompt_formats import PromptFormatError, custom_format
from inference.protocol import EngineSettings, ErrorKind, ModelInfo, Sampling
from ui.main_window import MainWindow
from ui.model_rows import DownloadState, SettingsValues
from ui.models_page import ModelsPage

SHUTDOWN_WAIT_S = 4.5
SOURCE_SETTINGS = "settings"
_RELOAD_NAMES = {
    "n_ctx": "context size",
    "n_gpu_layers": "GPU layers",
    "n_threads": "CPU threads",
    "n_batch": "batch size",
    "flash_attn": "flash attention",
    "chat_format": "chat template",
}


class _Jobs(QObject):
    """Blocking calls on short-lived threads; each result (or exception) is handed to its
    callback in the GUI thread. After `close`, late results are dropped."""

    _done = Signal(object, object)  # callback, value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        name: str,
        work: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        def body() -> None:
            try:
                result = work()
            except Exception as exc:  # every failure reaches the page in plain words
                self._done.emit(on_error, exc)
            else:
                self._done.emit(on_result, result)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=body, name=f"models-{name}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        if not self._closed:
            callback(value)

    def close(self, deadline: float) -> None:
        self._closed = True
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Download(QObject):
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
            client = HubClient(token=load_token())
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


def _progress_text(p: DownloadProgress) -> str:
    total = human_size(p.total_bytes) if p.total_bytes else "?"
    parts = [f"{p.filename}: {human_size(p.done_bytes)} of {total}"]
    if p.speed_bps > 0:
        parts.append(f"{human_size(int(p.speed_bps))}/s")
    if p.eta_s is not None and p.done_bytes < (p.total_bytes or 0):
        eta = p.eta_s
        parts.append(f"about {eta:.0f} s left" if eta < 90 else f"about {eta / 60:.0f} min left")
    return " · ".join(parts)


class ModelsController(QObject):
    """Signals: ``installedChanged()`` after the table was refreshed, ``downloadFinished(str)``
    (installed path, or "" when it failed/paused/cancelled), ``fitShown()`` after a fit
    verdict was shown, ``remoteFitShown(key)`` after a hub file's header was read (or could
    not be) and its fit shown (for tests and the lead's wiring)."""

    installedChanged = Signal()
    downloadFinished = Signal(str)
    fitShown = Signal()
    layoutReady = Signal(str)
    remoteFitShown = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        chat: ChatController,
        page: ModelsPage | None = None,
        *,
        machine: MachineMemory | None = None,
        progress_interval: float = 0.1,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.chat = chat
        self.page = page or ModelsPage()
        self.paths = chat.paths
        self.store = ModelSettingsStore(self.paths.data_dir)
        self.machine = machine
        # None: learn from the loaded model whether this llama.cpp can offload at all.
        self.gpu_available: bool | None = None
        self.progress_interval = progress_interval
        self._jobs = _Jobs(self)
        self._entries: list[ModelEntry] = []
        self._layouts: dict[str, ModelLayout] = {}
        self._selected = ""
        self._remote: list[RemoteModel] = []
        self._repo = ""
        # Hub headers read (or failed) per (repo, commit, file): one request per file
        # selected, never one per listed row.
        self._remote_layouts: dict[tuple[str, str, str], ModelLayout] = {}
        self._remote_notes: dict[tuple[str, str, str], str] = {}
        self._download: _Download | None = None
        self._resumable: RemoteModel | None = None
        self._closed = False
        self._loaded_info: ModelInfo | None = None
        self._connect()
        if machine is None:
            self._jobs.run("machine", detect_machine, self._on_machine, lambda _exc: None)
        self._show_token_state()
        self.refresh()
        if chat.model_info is not None:
            self._on_model_loaded(0, chat.model_info)

    # ---- wiring --------------------------------------------------------------------------

    def _connect(self) -> None:
        page, hub, form = self.page, self.page.hub, self.page.settings_form
        page.useRequested.connect(self.use)
        page.detailsRequested.connect(self.show_details)
        page.removeRequested.connect(self.remove)
        page.deleteRequested.connect(self.ask_delete)
        page.deleteConfirmed.connect(self.delete)
        page.importRequested.connect(self.import_files)
        page.scanRequested.connect(self.scan)
        page.addFoundRequested.connect(self.import_files)
        page.modelSelected.connect(self._on_selected)
        form.fitRequested.connect(self._on_fit_requested)
        form.saveRequested.connect(self.save_settings)
        form.resetRequested.connect(self.reset_settings)
        form.reloadRequested.connect(self.reload)
        hub.searchRequested.connect(self.search)
        hub.repoSelected.connect(self.open_repo)
        hub.fileSelected.connect(self._on_remote_selected)
        hub.downloadRequested.connect(self.download)
        hub.pauseRequested.connect(self.pause)
        hub.resumeRequested.connect(self.resume)
        hub.cancelRequested.connect(self.cancel)
        hub.tokenSaveRequested.connect(self.save_token)
        hub.tokenForgetRequested.connect(self.forget_token)
        client = self.chat.client
        client.modelLoaded.connect(self._on_model_loaded)
        client.loadProgressed.connect(self._on_load_progress)
        client.engineCrashed.connect(lambda _reason: self._on_engine_gone())
        client.requestFailed.connect(self._on_request_failed)
        # What the engine holds grows after a load (mmapped weights are read in as the model
        # runs): read it again after each reply and whenever the page is shown.
        client.generationFinished.connect(lambda _request, _done: self.refresh_engine_memory())
        self.window.pages.currentChanged.connect(self._on_page_changed)

    # ---- installed models ------------------------------------------------------------------

    def refresh(self) -> None:
        loaded = self._loaded_path()

        def work() -> list[ModelEntry]:
            entries = list_installed(self.paths)
            known = {str(f.resolve()) for e in entries for f in e.files}
            if loaded and loaded not in known and Path(loaded).is_file():
                # Chosen in the settings file (or with --model): list it, it is in use.
                entries.append(describe([Path(loaded)], SOURCE_SETTINGS))
            return entries

        self._jobs.run("list", work, self._on_listed, self._error)

    def _loaded_path(self) -> str:
        info = self.chat.model_info
        path = info.path if info is not None else self.chat.settings.model_path
        return str(Path(path).resolve()) if path else ""

    def _on_listed(self, entries: list[ModelEntry]) -> None:
        self._entries = entries
        loaded = self._loaded_path()
        rows = [installed_row(e, str(e.path.resolve()) == loaded) for e in entries]
        self.page.show_installed(rows)
        # The chat page's picker offers the same models, by resolved path like the engine's.
        usable = [e for e in entries if e.usable]
        paths = [str(e.path.resolve()) for e in usable]
        choices = list(zip(picker_labels(usable), paths, strict=True))
        self.window.model_picker.show_models(choices, loaded)
        self.installedChanged.emit()

    def entry(self, path: str) -> ModelEntry | None:
        return next((e for e in self._entries if str(e.path) == path), None)

    def use(self, path: str) -> None:
        """Chat with this model: the engine swaps it in (one click)."""
        self.page.loaded_panel.show_loading(f"Loading {Path(path).name}…")
        self.chat.switch_model(path)

    def remove(self, path: str) -> None:
        if remove_import(self.paths, Path(path)):
            self.page.show_info(f"{Path(path).name} was removed from the list; the file is kept.")
        self.refresh()

    def _why_not_delete(self, entry: ModelEntry) -> str:
        """Why `entry`'s file must not be deleted now, in plain words ("" when it may)."""
        problem = why_not_delete(self.paths, entry, self._loaded_path())
        if problem:
            return problem
        name = entry.path.name
        job = self._download
        if job is not None:
            folder = model_folder(self.paths.models_dir, job.model.repo_id)
            targets = {folder / PurePosixPath(f.filename).name for f in job.model.files}
            if entry.path in targets:
                return f"{name} is being downloaded. Cancel the download first."
        return ""

    def ask_delete(self, path: str) -> None:
        """Delete file… pressed: refuse in plain words, or ask the user to confirm."""
        entry = self.entry(path)
        if entry is None:
            return
        problem = self._why_not_delete(entry)
        if problem:
            self.page.show_error(problem)
            return
        size = sum(f.stat().st_size for f in files_to_delete(entry))
        parts = f", {len(entry.files)} parts" if len(entry.files) > 1 else ""
        what = f"{entry.path.name} ({human_size(size)}{parts})"
        self.page.confirm_delete(path, what, str(entry.path.parent))

    def delete(self, path: str) -> None:
        """Confirmed: delete the files (on a worker thread; big files take a moment)."""
        entry = self.entry(path)
        problem = self._why_not_delete(entry) if entry is not None else ""
        if entry is None or problem:  # things changed while the dialog was open
            if problem:
                self.page.show_error(problem)
            return

        def done(freed: int) -> None:
            self._layouts.pop(path, None)
            self.page.show_info(f"Deleted {entry.path.name}; {human_size(freed)} freed.")
            self.refresh()

        def failed(exc: Exception) -> None:
            self._error(exc)
            self.refresh()  # show what is left

        self._jobs.run("delete", lambda: delete_model_files(self.paths, entry), done, failed)

    def import_files(self, paths: list[str]) -> None:
        """Validate and register files where they are (no copy); bad files are refused."""
        self.page.set_busy(True)

        def work() -> tuple[list[str], list[str]]:
            added, refused = [], []
            for path in paths:
                try:
                    added.append(import_model(self.paths, Path(path)).name)
                except ModelFileError as exc:
                    refused.append(f"{Path(path).name} was not imported: {exc}")
            return added, refused

        self._jobs.run("import", work, self._on_imported, self._busy_error)

    def _on_imported(self, result: tuple[list[str], list[str]]) -> None:
        added, refused = result
        self.page.set_busy(False)
        if refused:
            self.page.show_error(" ".join(refused))
        elif added:
            self.page.show_info(f"Imported {', '.join(added)}. The file stays where it is.")
            self.page.found_box.hide()
        self.refresh()

    def scan(self) -> None:
        self.page.set_busy(True)
        self._jobs.run(
            "scan", lambda: scan_known_folders(self.paths), self._on_scanned, self._busy_error
        )

    def _on_scanned(self, entries: list[ModelEntry]) -> None:
        self.page.set_busy(False)
        if entries:
            title = (
                f"Found {len(entries)} model(s) other apps downloaded. Add them to use them "
                "where they are (nothing is copied):"
            )
        else:
            title = (
                "No other GGUF models were found in the Hugging Face cache, LM Studio or "
                "GPT4All folders."
            )
        self.page.show_found([found_row(e) for e in entries], title)

    def show_details(self, path: str) -> None:
        entry = self.entry(path)
        if entry is None:
            return

        def work() -> list[tuple[str, str, str, str]]:
            return [(m.key, m.type, m.value, m.full) for m in read_metadata(Path(path))]

        def done(items: list[tuple[str, str, str, str]]) -> None:
            summary = (
                f"{entry.path}\n{len(items)} metadata entries, read from the file's header "
                "(the model is not loaded)."
            )
            self.page.open_details(entry.name, summary, items)

        self._jobs.run("details", work, done, self._error)

    # ---- per-model settings and fit ----------------------------------------------------------

    def _on_selected(self, path: str) -> None:
        self._selected = path
        if not path:
            self.page.settings_form.clear()
            return
        if path in self._layouts:
            self._fill_form(path)
            return

        def done(layout: ModelLayout) -> None:
            self._layouts[path] = layout
            if self._selected == path:
                self._fill_form(path)
            self.layoutReady.emit(path)

        self._jobs.run("layout", lambda: read_layout(Path(path)), done, self._error)

    def _fill_form(self, path: str) -> None:
        layout = self._layouts[path]
        entry = self.entry(path)
        values = settings_values(
            self.chat.settings,
            self.store.get(path),
            max_context=entry.context_length if entry else None,
            total_layers=layout.n_layers + 1,
        )
        name = entry.name if entry else Path(path).name
        self.page.settings_form.set_values(f"Settings for {name}", values)

    def _gpu_available(self) -> bool:
        if self.gpu_available is not None:
            return self.gpu_available
        info = self.chat.model_info
        return info.gpu_offload_supported if info is not None else True

    def _on_machine(self, machine: MachineMemory) -> None:
        if self.machine is None:
            self.machine = machine
            v = self.page.settings_form.values()
            if v is not None:
                self._on_fit_requested(v.n_ctx, v.n_gpu_layers, v.gpu_auto, v.n_batch, v.flash_attn)
            if self._remote:
                self._show_remote()

    def _on_fit_requested(
        self, n_ctx: int, layers: int, auto: bool, n_batch: int, flash_attn: bool
    ) -> None:
        layout = self._layouts.get(self._selected)
        form = self.page.settings_form
        if layout is None:
            return
        if self.machine is None:
            form.fit_label.setText("Checking this computer's memory…")
            return
        gpu = self._gpu_available()
        if auto:
            layers = auto_gpu_layers(
                layout, n_ctx, self.machine, gpu_available=gpu, n_batch=n_batch,
                flash_attn=flash_attn,
            )  # fmt: skip
        verdict = evaluate_fit(
            layout, n_ctx, layers, self.machine, gpu_available=gpu, n_batch=n_batch,
            flash_attn=flash_attn,
        )  # fmt: skip
        form.show_fit(fit_view(verdict, gpu and self.machine.best_gpu is not None))
        self.fitShown.emit()

    def save_settings(self, values: SettingsValues) -> None:
        path = self._selected
        if not path:
            return
        own = settings_from_values(self.chat.settings, values)
        if own.chat_format == CUSTOM:
            entry = self.entry(path)
            try:
                custom_format(own.custom_template, entry.architecture if entry else None)
            except PromptFormatError as exc:
                self.page.show_error(f"The custom chat template cannot be used: {exc}")
                return
        before = self.store.get(path)
        self._store(path, own, before)

    def reset_settings(self) -> None:
        path = self._selected
        if path:
            self._store(path, ModelSettings(), self.store.get(path))
            self._fill_form(path)

    def _store(self, path: str, own: ModelSettings, before: ModelSettings) -> None:
        try:
            self.store.put(path, own)
        except OSError as exc:
            self.page.show_error(f"The settings could not be saved: {exc.strerror or exc}.")
            return
        changed = own.reload_changes(before)
        form = self.page.settings_form
        loaded = self._loaded_path() == str(Path(path).resolve())
        if changed and loaded:
            names = ", ".join(_RELOAD_NAMES[c] for c in changed)
            form.show_saved(
                f"Saved. The {names} change takes effect after reload.", needs_reload=True
            )
        elif changed:
            form.show_saved(
                "Saved. It applies the next time you use this model.", needs_reload=False
            )
        else:
            form.show_saved("Saved.", needs_reload=False)

    def reload(self) -> None:
        path = self._loaded_path()
        if path:
            self.page.settings_form.reload_bar.hide()
            self.use(path)

    def engine_settings(self, model_path: str) -> tuple[EngineSettings, Sampling, str | None]:
        """What to load `model_path` with: global settings plus its own (Auto resolved with
        this machine's memory). The chat controller can call this when it loads a model."""

        def auto(engine: EngineSettings) -> int:
            layout = self._layouts.get(model_path)
            if layout is None or self.machine is None:
                return 0
            return auto_gpu_layers(
                layout, engine.n_ctx, self.machine, gpu_available=self._gpu_available(),
                n_batch=engine.n_batch, flash_attn=engine.flash_attn,
            )  # fmt: skip

        return engine_settings_for(
            self.chat.settings, model_path, self.store.get(model_path), auto_gpu_layers=auto
        )

    # ---- after a load: the truth -------------------------------------------------------------

    def _on_load_progress(self, _request: int, fraction: float, text: str) -> None:
        self.page.loaded_panel.show_loading(f"{text} {fraction:.0%}")

    def _on_model_loaded(self, _request: int, info: ModelInfo) -> None:
        self._loaded_info = info
        self._show_loaded(info)
        self._mark_in_use(str(Path(info.path).resolve()))

    def _show_loaded(self, info: ModelInfo) -> None:
        own = self.store.get(info.path)
        requested = self.engine_settings(info.path)[0].n_gpu_layers
        view = loaded_view(info, requested, auto=own.n_gpu_layers == AUTO)
        self.page.loaded_panel.show_loaded(view)

    def _on_page_changed(self, _index: int) -> None:
        if self.window.pages.currentWidget() is self.page:
            self.refresh_engine_memory()

    def refresh_engine_memory(self) -> None:
        """Show the engine process's resident memory as it is now (not just after load)."""
        info = self._loaded_info
        if info is None or info.memory is None or self.chat.model_info is not info:
            return  # nothing loaded, or another load is under way
        rss = engine_rss(self.chat.client.pid)
        if rss and rss != info.memory.rss_bytes:
            self._loaded_info = replace(info, memory=replace(info.memory, rss_bytes=rss))
            self._show_loaded(self._loaded_info)

    def _mark_in_use(self, loaded: str) -> None:
        """Mark the row of the resolved path `loaded` as in use ("" marks none)."""
        rows = self.page.rows()
        if rows and any((str(Path(r.path).resolve()) == loaded) != r.in_use for r in rows):
            self.page.show_installed(
                [replace(r, in_use=str(Path(r.path).resolve()) == loaded) for r in rows]
            )

    def _on_request_failed(self, _request: int, kind: str, message: str) -> None:
        # Only a load fails with MODEL_FILE, and the chat forgets the old model's info
        # before asking for a new one: this was the load the panel is waiting for.
        if kind != ErrorKind.MODEL_FILE or self.chat.model_info is not None:
            return
        path = self.chat.settings.model_path
        title = "No model is loaded."
        if path:
            title = f"{Path(path).name} could not be loaded; no model is loaded."
        self.page.loaded_panel.show_failed(title, message.split("\n", 1)[0])
        self._mark_in_use("")  # the engine dropped the old model before trying this one

    def _on_engine_gone(self) -> None:
        self.page.loaded_panel.show_loading("The engine stopped; no model is loaded.")
        self._mark_in_use("")

    # ---- Hugging Face ------------------------------------------------------------------------

    def _hub_error(self, exc: Exception) -> None:
        if isinstance(exc, AuthRequiredError):
            self.page.hub.ask_for_token(
                f"{exc} Paste an access token above and press Save token, then try again."
            )
        elif isinstance(exc, HubError):
            self.page.hub.set_status(str(exc))
        else:
            self.page.hub.set_status(f"Something went wrong: {exc}")

    def search(self, text: str) -> None:
        self.page.hub.set_status(f"Searching for “{text}”…")

        def done(results: list[Any]) -> None:
            self.page.hub.show_repos([repo_row(r) for r in results])
            if results:
                self.page.hub.set_status(f"{len(results)} GGUF repositories; pick one.")
            else:
                self.page.hub.set_status(f"No GGUF repositories match “{text}”.")

        self._jobs.run(
            "search", lambda: HubClient(token=load_token()).search(text), done, self._hub_error
        )

    def open_repo(self, repo_id: str) -> None:
        self.page.hub.set_status(f"Listing the files of {repo_id}…")
        self.page.hub.show_files("", [])

        def done(models: list[RemoteModel]) -> None:
            if self.page.hub.selected_repo() not in ("", repo_id):
                return  # the user picked another repository meanwhile
            self._repo, self._remote = repo_id, models
            # A failed header read is tried again when the repository is opened again.
            self._remote_notes = {k: v for k, v in self._remote_notes.items() if k[0] != repo_id}
            self._show_remote()
            self.page.hub.set_status(
                f"{len(models)} model file(s) in {repo_id}. Select one to check its fit at "
                f"{self.chat.settings.n_ctx:,} tokens of context from its header; the others "
                "are estimated from their size."
            )

        def failed(exc: Exception) -> None:
            self._repo, self._remote = repo_id, []
            self._hub_error(exc)

        self._jobs.run(
            "list-repo",
            lambda: HubClient(token=load_token()).list_models(repo_id),
            done,
            failed,
        )

    def _is_installed(self, model: RemoteModel) -> bool:
        folder = model_folder(self.paths.models_dir, model.repo_id)
        return all((folder / Path(f.filename).name).exists() for f in model.files)

    def _resumable_bytes(self, model: RemoteModel) -> int:
        if self._download is not None and self._download.model == model:
            return 0  # the progress bar already says it
        try:
            return resumable_bytes(self.paths.models_dir, model)
        except OSError:
            return 0  # an unreadable partial is simply not offered

    def _show_remote(self) -> None:
        gpu = self._gpu_available()
        rows = [
            remote_row(
                m,
                self.machine,
                gpu,
                self._is_installed(m),
                self._remote_fit_input(m),
                resumable=self._resumable_bytes(m),
            )
            for m in self._remote
        ]
        self.page.hub.show_files(self._repo, rows)

    def _remote_fit_input(self, model: RemoteModel) -> RemoteFitInput:
        settings = self.chat.settings
        key = (model.repo_id, model.revision, model.filename)
        return RemoteFitInput(
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            flash_attn=settings.flash_attn,
            layout=self._remote_layouts.get(key),
            note=self._remote_notes.get(key, ""),
        )

    def _on_remote_selected(self, filename: str) -> None:
        """Read the selected file's header (once) so its fit counts the KV cache."""
        model = next((m for m in self._remote if m.filename == filename), None)
        if model is None:
            return
        key = (model.repo_id, model.revision, model.filename)
        if key in self._remote_layouts or key in self._remote_notes:
            return
        self._remote_notes[key] = READING_HEADER
        self._show_remote()

        def done(layout: ModelLayout) -> None:
            self._remote_layouts[key] = layout
            self._remote_notes.pop(key, None)
            self._shown_remote_fit(model)

        def failed(exc: Exception) -> None:
            message = str(exc) if isinstance(exc, HubError | ModelFileError) else repr(exc)
            self._remote_notes[key] = message
            self._shown_remote_fit(model)

        client = HubClient(token=load_token())
        self._jobs.run("header", lambda: read_remote_layout(client, model), done, failed)

    def _shown_remote_fit(self, model: RemoteModel) -> None:
        if model in self._remote:  # still the listed repository
            self._show_remote()
        self.remoteFitShown.emit(model.filename)

    def download(self, key: str) -> None:
        model = next((m for m in self._remote if m.filename == key), None)
        if model is None or self._download is not None:
            return
        self._start_download(model)

    def _start_download(self, model: RemoteModel) -> None:
        job = _Download(model, self.paths.models_dir, self.progress_interval)
        job.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        job.finished.connect(self._on_download_finished, Qt.ConnectionType.QueuedConnection)
        self._download = job
        self._resumable = model
        self.page.hub.show_download(DownloadState("running", f"Starting {model.filename}…"))
        job.thread.start()

    def _on_progress(self, progress: DownloadProgress) -> None:
        if self._download is None:
            return
        total = progress.total_bytes or 0
        fraction = progress.done_bytes / total if total else None
        self.page.hub.show_download(DownloadState("running", _progress_text(progress), fraction))

    def _on_download_finished(self, result: Path | Exception) -> None:
        job, self._download = self._download, None
        if job is not None:
            job.thread.join()
        model = job.model if job is not None else None
        hub = self.page.hub
        if isinstance(result, Path):
            self._resumable = None
            self._register(result)
            hub.show_download(DownloadState("done", f"Installed {result.name}.", 1.0))
            self.page.show_info(f"{result.name} is installed; select it and press Use.")
            if self._remote:
                self._show_remote()
            self.refresh()
            self.downloadFinished.emit(str(result))
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
                self._hub_error(result)
            name = model.filename if model else "The download"
            hub.show_download(DownloadState("failed", f"{name}: {result}"))
        if self._remote:
            self._show_remote()  # what was kept for a resume, or that nothing was
        self.downloadFinished.emit("")

    def _register(self, path: Path) -> None:
        """A copy reused from the Hugging Face cache lives outside the models folder:
        register it as an import so it shows up as installed."""
        try:
            path.resolve().relative_to(self.paths.models_dir.resolve())
        except ValueError:
            try:
                import_model(self.paths, path)
            except ModelFileError as exc:
                self.page.show_error(str(exc))

    def pause(self) -> None:
        if self._download is not None:
            self._download.control.pause()

    def resume(self) -> None:
        if self._download is None and self._resumable is not None:
            self._start_download(self._resumable)

    def cancel(self) -> None:
        if self._download is not None:
            self._download.control.cancel()
        elif self._resumable is not None:
            # Paused: a pre-cancelled run deletes the partial file without any network.
            model, self._resumable = self._resumable, None
            self._start_download(model)
            assert self._download is not None
            self._download.control.cancel()

    def save_token(self, token: str) -> None:
        try:
            save_token(token)
        except TokenStoreError as exc:
            self.page.hub.set_status(str(exc))
            return
        self._show_token_state()
        self.page.hub.set_status(
            "The token is stored in the system keyring (never in Hearth's files)."
        )
        if self._repo and not self._remote:
            self.open_repo(self._repo)

    def forget_token(self) -> None:
        delete_token()
        self._show_token_state()
        self.page.hub.set_status("The token was removed from the system keyring.")

    def _show_token_state(self) -> None:
        if os.environ.get("HF_TOKEN"):
            self.page.hub.set_token_state("Using HF_TOKEN from the environment.", stored=False)
        elif load_token():
            self.page.hub.set_token_state("A token is stored in the keyring.", stored=True)
        else:
            self.page.hub.set_token_state("No token stored.", stored=False)

    # ---- errors and shutdown ------------------------------------------------------------------

    def _error(self, exc: Exception) -> None:
        self.page.show_error(str(exc) if isinstance(exc, ModelFileError | HubError) else f"{exc}")

    def _busy_error(self, exc: Exception) -> None:
        self.page.set_busy(False)
        self._error(exc)

    def shutdown(self) -> None:
        """Stop work within ~5 s: a running download is paused (its partial file is kept, so
        the next Download resumes it) and every thread is joined."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        job = self._download
        if job is not None:
            job.control.pause()
            job.thread.join(max(0.0, deadline - time.monotonic()))
        self._jobs.close(deadline)


def engine_rss(pid: int | None) -> int:
    """Resident bytes of the engine process (0 when it is gone or cannot be read)."""
    if pid is None:
        return 0
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # gone, not permitted, or psutil missing: keep the last figure
        return 0


def picker_labels(entries: Sequence[ModelEntry]) -> list[str]:
    """Names for the chat page's picker. Quantizations of one model share its name, so the
    quantization is added, and the file name where two would still read the same."""
    labels = [f"{e.name} · {e.quantization}" if e.quantization else e.name for e in entries]
    seen = Counter(labels)
    return [
        f"{label} ({e.path.name})" if seen[label] > 1 else label
        for label, e in zip(labels, entries, strict=True)
    ]


def install_models(window: MainWindow, chat: ChatController) -> ModelsController:
    """Build the Models page, add it to the window and return its controller."""
    page = ModelsPage()
    window.add_page("Models", page)
    return ModelsController(window, chat, page)
