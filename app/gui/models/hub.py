"""The Models page's Hugging Face panel: search, a repository's GGUF files with their fit
(from the selected file's header, read once), and the access token.

Threads: GUI thread only; Hub calls and header reads run through `PageTasks` and come back
queued. Downloads are app/gui/models/downloads.py's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from app.config.paths import HearthPaths
from app.gui.models.machine import MachineState
from app.gui.models.page_tasks import PageTasks
from app.gui.models.views import READING_HEADER, RemoteFitInput, remote_row, repo_row
from app.gui.settings_store import SettingsStore
from app.models.download import model_folder, resumable_bytes
from app.models.gguf_layout import ModelLayout
from app.models.hub import AuthRequiredError, HubClient, HubError, RemoteModel
from app.models.remote_header import read_remote_layout
from app.models.tokens import TokenStoreError, delete_token, load_token, save_token
from inference.gguf import ModelFileError
from ui.models.page import ModelsPage


def hub_client() -> HubClient:
    """A client with the token as it is now (it may be saved or forgotten at any time)."""
    return HubClient(token=load_token())


def _header_key(model: RemoteModel) -> tuple[str, str, str]:
    """One header per file at one commit of its repository."""
    return (model.repo_id, model.revision, model.filename)


class HubBrowser(QObject):
    """`downloading()` is the model being downloaded, if any (its row shows the progress
    bar instead of a resumable partial)."""

    def __init__(
        self,
        page: ModelsPage,
        store: SettingsStore,
        paths: HearthPaths,
        tasks: PageTasks,
        machine: MachineState,
        downloading: Callable[[], RemoteModel | None],
    ) -> None:
        super().__init__(page)
        self.page = page
        self.store = store
        self.paths = paths
        self._tasks = tasks
        self._machine = machine
        self._downloading = downloading
        self.remote: list[RemoteModel] = []
        self._repo = ""
        # Hub headers read (or failed) per (repo, commit, file): one request per file
        # selected, never one per listed row.
        self._remote_layouts: dict[tuple[str, str, str], ModelLayout] = {}
        self._remote_notes: dict[tuple[str, str, str], str] = {}
        # Bumped by every search, listing and Cancel: a late answer to an older one is
        # dropped (its thread ends by itself, within hub.py's short timeouts).
        self._wait = 0
        hub = page.hub
        hub.waitCancelled.connect(self.cancel_wait)
        hub.searchRequested.connect(self.search)
        hub.repoSelected.connect(self.open_repo)
        hub.fileSelected.connect(self._on_remote_selected)
        hub.tokenSaveRequested.connect(self.save_token)
        hub.tokenForgetRequested.connect(self.forget_token)
        self._show_token_state()

    def model(self, filename: str) -> RemoteModel | None:
        """The listed file `filename` of the open repository."""
        return next((m for m in self.remote if m.filename == filename), None)

    def hub_error(self, exc: Exception) -> None:
        if isinstance(exc, AuthRequiredError):
            self.page.hub.ask_for_token(
                f"{exc} Paste an access token above and press Save token, then try again."
            )
        elif isinstance(exc, HubError):
            self.page.hub.set_status(str(exc))
        else:
            self.page.hub.set_status(f"Something went wrong: {exc}")

    def _begin_wait(self, text: str) -> int:
        self._wait += 1
        self.page.hub.show_waiting(text)
        return self._wait

    def cancel_wait(self) -> None:
        """Cancel pressed: stop waiting for the search or listing under way."""
        self._wait += 1
        self.page.hub.set_status("Stopped waiting for Hugging Face.")

    def _current(self, wait: int, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """`callback`, run only if nothing newer (or Cancel) came since `wait` began."""

        def guarded(value: Any) -> None:
            if wait == self._wait:
                callback(value)

        return guarded

    def search(self, text: str) -> None:
        wait = self._begin_wait(f"Searching Hugging Face for “{text}”…")

        def done(results: list[Any]) -> None:
            self.page.hub.show_repos([repo_row(r) for r in results])
            if results:
                self.page.hub.set_status(f"{len(results)} GGUF repositories; pick one.")
            else:
                self.page.hub.set_status(f"No GGUF repositories match “{text}”.")

        self._tasks.run(
            "search",
            lambda: hub_client().search(text),
            self._current(wait, done),
            self._current(wait, self.hub_error),
        )

    def open_repo(self, repo_id: str) -> None:
        wait = self._begin_wait(f"Listing the files of {repo_id}…")
        self.page.hub.show_files("", [])

        def done(models: list[RemoteModel]) -> None:
            if self.page.hub.selected_repo() not in ("", repo_id):
                return  # the user picked another repository meanwhile
            self._repo, self.remote = repo_id, models
            # A failed header read is tried again when the repository is opened again.
            self._remote_notes = {k: v for k, v in self._remote_notes.items() if k[0] != repo_id}
            self.show_remote()
            self.page.hub.set_status(
                f"{len(models)} model file(s) in {repo_id}. Select one to check its fit at "
                f"{self.store.settings.n_ctx:,} tokens of context from its header; the others "
                "are estimated from their size."
            )

        def failed(exc: Exception) -> None:
            self._repo, self.remote = repo_id, []
            self.hub_error(exc)

        self._tasks.run(
            "list-repo",
            lambda: hub_client().list_models(repo_id),
            self._current(wait, done),
            self._current(wait, failed),
        )

    def _is_installed(self, model: RemoteModel) -> bool:
        folder = model_folder(self.paths.models_dir, model.repo_id)
        return all((folder / Path(f.filename).name).exists() for f in model.files)

    def _resumable_bytes(self, model: RemoteModel) -> int:
        if self._downloading() == model:
            return 0  # the progress bar already says it
        try:
            return resumable_bytes(self.paths.models_dir, model)
        except OSError:
            return 0  # an unreadable partial is simply not offered

    def show_remote(self) -> None:
        """Show the open repository's files again (installed, resumable, fit may change)."""
        gpu = self._machine.gpu_available()
        rows = [
            remote_row(
                m,
                self._machine.memory,
                gpu,
                self._is_installed(m),
                self._remote_fit_input(m),
                resumable=self._resumable_bytes(m),
            )
            for m in self.remote
        ]
        self.page.hub.show_files(self._repo, rows)

    def _remote_fit_input(self, model: RemoteModel) -> RemoteFitInput:
        settings = self.store.settings
        key = _header_key(model)
        return RemoteFitInput(
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            flash_attn=settings.flash_attn,
            layout=self._remote_layouts.get(key),
            note=self._remote_notes.get(key, ""),
        )

    def _on_remote_selected(self, filename: str) -> None:
        """Read the selected file's header (once) so its fit counts the KV cache."""
        model = self.model(filename)
        if model is None:
            return
        key = _header_key(model)
        if key in self._remote_layouts or key in self._remote_notes:
            return
        self._remote_notes[key] = READING_HEADER
        self.show_remote()

        def done(layout: ModelLayout) -> None:
            self._remote_layouts[key] = layout
            self._remote_notes.pop(key, None)
            self._show_remote_fit(model)

        def failed(exc: Exception) -> None:
            message = str(exc) if isinstance(exc, HubError | ModelFileError) else repr(exc)
            self._remote_notes[key] = message
            self._show_remote_fit(model)

        client = hub_client()
        self._tasks.run("header", lambda: read_remote_layout(client, model), done, failed)

    def _show_remote_fit(self, model: RemoteModel) -> None:
        if model in self.remote:  # still the listed repository
            self.show_remote()

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
        if self._repo and not self.remote:
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
