"""The Models page's installed models: the table (and the chat page's picker) listed from
the models folder and the imports, Remove and Delete file…, importing files where they are,
scanning other apps' folders, and a model's header metadata.

Threads: GUI thread only; listing, imports, scans, deletes and header reads run through
`PageTasks` and come back queued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from PySide6.QtCore import QObject, Signal

from app.config.paths import HearthPaths
from app.gui.models.loaded import loaded_path, local_choice, resolved
from app.gui.models.page_tasks import PageTasks
from app.gui.models.views import found_row, installed_row
from app.gui.session import EngineSession
from app.models.catalog import (
    ModelEntry,
    describe,
    import_model,
    list_installed,
    remove_import,
    scan_known_folders,
)
from app.models.download import model_folder
from app.models.hub import RemoteModel
from app.models.metadata import read_metadata
from app.models.removal import delete_model_files, files_to_delete, why_not_delete
from inference.gguf import ModelFileError, human_size
from ui.main_window import MainWindow
from ui.models.page import ModelsPage

SOURCE_SETTINGS = "settings"


def picker_labels(entries: Sequence[ModelEntry]) -> list[str]:
    """Names for the chat page's picker: each model's display name (the one the whole app
    uses), and the file name where two would still read the same."""
    labels = [e.display_name for e in entries]
    seen = Counter(labels)
    return [
        f"{label} ({e.path.name})" if seen[label] > 1 else label
        for label, e in zip(labels, entries, strict=True)
    ]


class InstalledModels(QObject):
    """Signals: ``deleted(path)`` after a model's files were deleted. `downloading()` is the
    Hub model being downloaded, if any (its files must not be deleted)."""

    deleted = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        page: ModelsPage,
        session: EngineSession,
        paths: HearthPaths,
        tasks: PageTasks,
        downloading: Callable[[], RemoteModel | None],
    ) -> None:
        super().__init__(page)
        self.window = window
        self.page = page
        self.session = session
        self.paths = paths
        self._tasks = tasks
        self._downloading = downloading
        self._entries: list[ModelEntry] = []
        page.detailsRequested.connect(self.show_details)
        page.removeRequested.connect(self.remove)
        page.deleteRequested.connect(self.ask_delete)
        page.deleteConfirmed.connect(self.delete)
        page.importRequested.connect(self.import_files)
        page.scanRequested.connect(self.scan)
        page.addFoundRequested.connect(self.import_files)
        session.loaded.connect(self._on_model_ready)

    def refresh(self) -> None:
        chosen = local_choice(self.session)

        def work() -> list[ModelEntry]:
            entries = list_installed(self.paths)
            known = {resolved(f) for e in entries for f in e.files}
            if chosen and chosen not in known and Path(chosen).is_file():
                # Chosen in the settings file (or with --model): list it, it is in use (or
                # the one to go back to from a server's model).
                entries.append(describe([Path(chosen)], SOURCE_SETTINGS))
            return entries

        self._tasks.run("list", work, self._on_listed, self._error)

    def _on_listed(self, entries: list[ModelEntry]) -> None:
        self._entries = entries
        loaded = loaded_path(self.session)
        rows = [installed_row(e, resolved(e.path) == loaded) for e in entries]
        self.page.show_installed(rows)
        # The chat page's picker offers the same models, by resolved path like the engine's.
        usable = [e for e in entries if e.usable]
        paths = [resolved(e.path) for e in usable]
        choices = list(zip(picker_labels(usable), paths, strict=True))
        self.window.model_picker.show_models(choices, loaded)
        self.select_in_use()

    def _on_model_ready(self, _info: object) -> None:
        loaded = loaded_path(self.session)
        entry = next((e for e in self._entries if resolved(e.path) == loaded), None)
        if entry is None or entry.packaged:
            self.refresh()  # unpacked on this start, or chosen outside the list: list it
        else:
            self.select_in_use()

    def select_in_use(self) -> None:
        """With nothing selected, select the model in use, so its settings (a larger
        context, say) are open for editing as soon as the page shows."""
        if self.page.selected_path():
            return
        loaded = loaded_path(self.session)
        for row in self.page.rows():
            if loaded and resolved(row.path) == loaded:
                self.page.select_path(row.path)
                return

    def entries(self) -> list[ModelEntry]:
        """The models listed last (every one, usable or not)."""
        return list(self._entries)

    def entry(self, path: str) -> ModelEntry | None:
        return next((e for e in self._entries if str(e.path) == path), None)

    def remove(self, path: str) -> None:
        if remove_import(self.paths, Path(path)):
            self.page.show_info(f"{Path(path).name} was removed from the list; the file is kept.")
        self.refresh()

    def _why_not_delete(self, entry: ModelEntry) -> str:
        """Why `entry`'s file must not be deleted now, in plain words ("" when it may)."""
        problem = why_not_delete(self.paths, entry, loaded_path(self.session))
        if problem:
            return problem
        model = self._downloading()
        if model is not None:
            folder = model_folder(self.paths.models_dir, model.repo_id)
            targets = {folder / PurePosixPath(f.filename).name for f in model.files}
            if entry.path in targets:
                return f"{entry.path.name} is being downloaded. Cancel the download first."
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
            self.deleted.emit(path)
            self.page.show_info(f"Deleted {entry.path.name}; {human_size(freed)} freed.")
            self.refresh()

        def failed(exc: Exception) -> None:
            self._error(exc)
            self.refresh()  # show what is left

        self._tasks.run("delete", lambda: delete_model_files(self.paths, entry), done, failed)

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

        self._tasks.run("import", work, self._on_imported, self._busy_error)

    def _on_imported(self, result: tuple[list[str], list[str]]) -> None:
        added, refused = result
        self.page.set_busy(False)
        if refused:
            self.page.show_error(" ".join(refused))
        elif added:
            self.page.show_info(f"Imported {', '.join(added)}. The file stays where it is.")
            self.page.found_box.hide()
        self.refresh()

    def register(self, path: Path) -> None:
        """A downloaded copy reused from the Hugging Face cache lives outside the models
        folder: register it as an import so it shows up as installed."""
        try:
            path.resolve().relative_to(self.paths.models_dir.resolve())
        except ValueError:
            try:
                import_model(self.paths, path)
            except ModelFileError as exc:
                self.page.show_error(str(exc))

    def scan(self) -> None:
        self.page.set_busy(True)
        self._tasks.run(
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

        self._tasks.run("details", work, done, self._error)

    def _error(self, exc: Exception) -> None:
        self.page.show_error(str(exc))

    def _busy_error(self, exc: Exception) -> None:
        self.page.set_busy(False)
        self._error(exc)
