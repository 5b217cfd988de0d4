"""The Models page's per-model settings: the selected model's header read once (for its
layer count and the fit), the form filled from its own settings, the fit verdict as values
change, Save/Reset, and what a load of a model asks the engine for.

Threads: GUI thread only; header reads run through `PageTasks` and come back queued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject

from app.config.paths import HearthPaths
from app.gui.models.form_values import settings_from_values, settings_values
from app.gui.models.loaded import loaded_path, resolved
from app.gui.models.machine import MachineState
from app.gui.models.page_tasks import PageTasks
from app.gui.models.views import fit_view
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.models.catalog import ModelEntry, model_layout
from app.models.draft_models import draft_choices, draft_problem
from app.models.fit import cache_problem, evaluate_fit
from app.models.gguf_layout import ModelLayout
from app.models.settings import CUSTOM, ModelSettings, ModelSettingsStore, engine_settings_for
from inference.kv_cache_rules import FLASH_AUTO
from inference.protocol import EngineSettings, Sampling
from inference.templates import PromptFormatError, custom_format
from ui.models.page import ModelsPage
from ui.models.rows import SettingsValues

_RELOAD_NAMES = {
    "n_ctx": "context size",
    "n_gpu_layers": "GPU layers",
    "n_threads": "CPU threads",
    "n_threads_batch": "prompt threads",
    "n_batch": "batch size",
    "flash_attn": "flash attention",
    "chat_format": "chat template",
    "type_k": "KV cache type of keys",
    "type_v": "KV cache type of values",
    "draft_model": "draft model",
}


class PerModelSettings(QObject):
    """The selected model's settings form and its fit verdict. `entry(path)` finds an
    installed model's entry, `entries()` lists them (the draft models offered)."""

    def __init__(
        self,
        page: ModelsPage,
        session: EngineSession,
        app_settings: SettingsStore,
        paths: HearthPaths,
        tasks: PageTasks,
        machine: MachineState,
        entry: Callable[[str], ModelEntry | None],
        entries: Callable[[], Sequence[ModelEntry]] = tuple,
    ) -> None:
        super().__init__(page)
        self.page = page
        self.session = session
        self.app_settings = app_settings
        self.paths = paths
        self.store = ModelSettingsStore(paths.data_dir)
        self._tasks = tasks
        self._machine = machine
        self._entry = entry
        self._entries = entries
        self._layouts: dict[str, ModelLayout] = {}
        # (model, draft model) -> why it cannot draft ("" it can), as checked when chosen
        self._draft_problems: dict[tuple[str, str], str] = {}
        self._selected = ""
        form = page.settings_form
        page.modelSelected.connect(self.select)
        form.fitRequested.connect(self._on_fit_requested)
        form.saveRequested.connect(self.save)
        form.resetRequested.connect(self.reset)
        form.draft.chosen.connect(self._check_draft)
        session.loaded.connect(self._on_loaded)

    def select(self, path: str) -> None:
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

        def failed(exc: Exception) -> None:
            self.page.show_error(str(exc))

        models_dir = self.paths.models_dir
        self._tasks.run("layout", lambda: model_layout(Path(path), models_dir), done, failed)

    def refill(self, path: str) -> None:
        """`path`'s settings changed elsewhere (the benchmark kept thread counts): show them
        if it is the model selected."""
        if path and path == self._selected and path in self._layouts:
            self._fill_form(path)

    def forget(self, path: str) -> None:
        """`path`'s file is gone: a new file there gets its header read again."""
        self._layouts.pop(path, None)

    def _fill_form(self, path: str) -> None:
        layout = self._layouts[path]
        entry = self._entry(path)
        values = settings_values(
            self.app_settings.settings,
            self.store.get(path),
            max_context=entry.context_length if entry else None,
            total_layers=layout.n_layers + 1,
            draft_choices=draft_choices(self._entries(), path),
            flash_resolved=self._flash_resolved(path),
        )
        name = entry.display_name if entry else Path(path).name
        self.page.settings_form.set_values(f"Settings for {name}", values)
        if values.draft_model:
            self._check_draft(values.draft_model)  # the file may have changed since

    def _flash_resolved(self, path: str) -> str:
        """What flash attention became for `path` in the engine ("" unless it is loaded)."""
        info = self.session.info
        if info is None or self.session.remote is not None:
            return ""
        return info.flash_attn if resolved(info.path) == resolved(path) else ""

    def _on_loaded(self, _info: object) -> None:
        if self._selected:
            self.page.settings_form.show_flash_resolved(self._flash_resolved(self._selected))

    def refit(self) -> None:
        """Show the fit of what the form holds again (the machine's memory became known)."""
        v = self.page.settings_form.values()
        if v is not None:
            self._on_fit_requested(v.n_ctx, v.n_gpu_layers, v.gpu_auto, v.n_batch, v.flash_attn)

    def _on_fit_requested(
        self, n_ctx: int, layers: int, auto: bool, n_batch: int, flash_attn: str
    ) -> None:
        layout = self._layouts.get(self._selected)
        form = self.page.settings_form
        if layout is None:
            return
        machine = self._machine.memory
        if machine is None:
            form.fit_label.setText("Checking this computer's memory…")
            return
        type_k, type_v = form.cache_types()
        form.show_cache_problem(cache_problem(layout, type_k, type_v, flash_attn))
        # Price flash attention as what auto became for this model when it is loaded.
        if flash_attn == FLASH_AUTO and self._flash_resolved(self._selected):
            flash_attn = self._flash_resolved(self._selected)
        gpu = self._machine.gpu_available()
        # Issue 13: a chosen draft model counts in Auto's layers and the verdict.
        draft = self._draft_layout(self._selected, form.draft.path())
        if auto:
            layers = self._machine.auto_layers(
                layout, n_ctx, n_batch, flash_attn, type_k, type_v, draft=draft
            )
        verdict = evaluate_fit(
            layout, n_ctx, layers, machine, gpu_available=gpu, n_batch=n_batch,
            flash_attn=flash_attn, type_k=type_k, type_v=type_v, draft=draft,
        )  # fmt: skip
        view = fit_view(verdict, gpu and machine.best_gpu is not None)
        form.show_fit(view)

    def _draft_layout(self, model: str, draft: str) -> ModelLayout | None:
        """The layout of the draft model `draft` for `model`, once its vocabulary was checked
        and passed (_check_draft reads it then); None before, or when it cannot draft."""
        if not draft or self._draft_problems.get((model, draft)) != "":
            return None
        return self._layouts.get(draft)

    def _check_draft(self, draft: str) -> None:
        """A draft model was chosen: check its vocabulary against the selected model's (and
        read its layout for the estimate) off the GUI thread; the form shows why not."""
        form, main = self.page.settings_form, self._selected
        form.draft.show_problem("")
        if not draft or not main:
            self.refit()
            return

        def work() -> tuple[str, ModelLayout | None]:
            problem = draft_problem(main, draft)
            return problem, None if problem else model_layout(Path(draft), self.paths.models_dir)

        def done(result: tuple[str, ModelLayout | None]) -> None:
            problem, layout = result
            self._draft_problems[(main, draft)] = problem
            if layout is not None:
                self._layouts[draft] = layout
            if self._selected == main and form.draft.path() == draft:
                form.draft.show_problem(problem)
                self.refit()

        def failed(exc: Exception) -> None:
            if self._selected == main and form.draft.path() == draft:
                form.draft.show_problem(str(exc))

        self._tasks.run("draft", work, done, failed)

    def save(self, values: SettingsValues) -> None:
        path = self._selected
        if not path:
            return
        own = settings_from_values(self.app_settings.settings, values)
        if own.chat_format == CUSTOM:
            entry = self._entry(path)
            try:
                custom_format(own.custom_template, entry.architecture if entry else None)
            except PromptFormatError as exc:
                self.page.show_error(f"The custom chat template cannot be used: {exc}")
                return
        draft = own.draft_model
        if draft and draft != self.store.get(path).draft_model:
            # Checked when chosen; read again only when Save came first (a Gemma-sized
            # vocabulary takes a few tenths of a second).
            known = self._draft_problems.get((path, draft))
            problem = draft_problem(path, draft) if known is None else known
            if problem:
                self.page.show_error(problem)
                return
        self._store(path, own, self.store.get(path))

    def reset(self) -> None:
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
        if changed and loaded_path(self.session) == resolved(path):
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

    def engine_settings(self, model_path: str) -> tuple[EngineSettings, Sampling, str | None]:
        """What to load `model_path` with: global settings plus its own (Auto resolved with
        this machine's memory). The chat controller can call this when it loads a model."""

        def auto(engine: EngineSettings) -> int:
            layout = self._layouts.get(model_path)
            if layout is None:
                return 0
            return self._machine.auto_layers(
                layout, engine.n_ctx, engine.n_batch, engine.flash_attn,
                engine.type_k, engine.type_v,
                draft=self._draft_layout(model_path, engine.draft_model_path),
            )  # fmt: skip

        return engine_settings_for(
            self.app_settings.settings, model_path, self.store.get(model_path), auto_gpu_layers=auto
        )
