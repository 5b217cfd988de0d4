"""Drives the Translate page: starts translations, detection and file jobs against the
chat's engine (through an EngineBridge) or a translation-only engine, and shows how they
ended. The job thread, the glossaries, the history and the translation-only model each have
their own module beside this one (runs.py, glossaries.py, history.py, model.py).

Threads: GUI thread only; job bodies run on the job thread and talk back through
`TranslationRunSignals` (queued to the GUI thread).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLocale, QObject

from app.config.paths import HearthPaths
from app.gui.engine_bridge import EngineBridge
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.gui.translation.glossaries import GlossaryController
from app.gui.translation.history import HistoryController
from app.gui.translation.model import OwnEngine, TranslationModel
from app.gui.translation.runs import TextResult, TranslationRunner, run_detect, run_file, run_text
from app.languages.codes import in_reading_order, is_known
from app.translation.files import SUPPORTED, FileTranslation, output_path
from app.translation.translator import Translator
from inference.protocol import ModelInfo
from storage.database import Database
from storage.translations import TranslationRepository
from ui.main_window import MainWindow
from ui.translation.marks import TermMark
from ui.translation.panel import TranslationPanel
from ui.widgets.delta_coalescer import DeltaCoalescer

GLOSSARIES_FILE = "translation_glossaries.json"
EMPTY_INPUT = "There is no text to translate. Type or paste some text on the left."


class TranslationController(QObject):
    """The Translate page's presenter. How a job ended is shown on the panel (status,
    message, flags, busy off); nothing else needs to hear of it, so no signal says it."""

    def __init__(
        self,
        panel: TranslationPanel,
        session: EngineSession,
        store: SettingsStore,
        paths: HearthPaths,
        history: TranslationRepository,
        glossaries_file: Path | None = None,
    ) -> None:
        """`session`: the app's engine, shared with the chat; `store` and `paths` size and
        find a translation-only model's own engine."""
        super().__init__(panel)
        self.panel = panel
        self.session = session
        self.chat_bridge = EngineBridge(session.client, parent=self, info=session.info)
        self.chat_bridge.promptReading.connect(panel.show_reading)
        self.chat_translator = Translator(self.chat_bridge)
        self._translate_when_ready = False
        session.loaded.connect(self._on_chat_model_ready)

        self.runner = TranslationRunner(self)
        self.glossaries = GlossaryController(panel, glossaries_file)
        self.history = HistoryController(panel, history, self.busy)
        self.model = TranslationModel(panel, store, paths, self.busy)

        signals = self.runner.signals
        self._coalescer = DeltaCoalescer(parent=self)
        self._coalescer.flushed.connect(panel.append_translation)
        self._back_coalescer = DeltaCoalescer(parent=self)
        self._back_coalescer.flushed.connect(panel.append_back_translation)
        signals.delta.connect(self._coalescer.push)
        signals.backStarted.connect(self._on_back_started)
        signals.backDelta.connect(self._back_coalescer.push)
        signals.progressed.connect(panel.show_progress)
        signals.detected.connect(panel.show_detection)
        signals.finished.connect(self._on_job_finished)
        signals.failed.connect(self._on_job_failed)

        panel.set_languages([(lang.code, lang.label, lang.name) for lang in in_reading_order()])
        panel.set_target_code(_default_target())
        panel.translateRequested.connect(self.translate)
        panel.cancelRequested.connect(self.cancel)
        panel.detectRequested.connect(self.detect_language)
        panel.fileChosen.connect(self.translate_file)
        panel.filesDropped.connect(self.on_files_dropped)
        panel.languagesChanged.connect(self._on_languages_changed)
        panel.modelChosen.connect(self.model.use)
        panel.remoteChosen.connect(self.model.use_remote)
        self._on_languages_changed()
        self.history.refresh()

    # ---- which engine ----------------------------------------------------------------------

    @property
    def own(self) -> OwnEngine | None:
        """The translation-only engine, or None while translations use the chat's."""
        return self.model.engine

    @property
    def translator(self) -> Translator:
        """The translator the next job uses (its engine may be wrapped, e.g. by tests)."""
        own = self.own
        return own.translator if own is not None else self.chat_translator

    @property
    def bridge(self) -> EngineBridge:
        own = self.own
        return own.bridge if own is not None else self.chat_bridge

    def _model_info(self) -> ModelInfo | None:
        if self.own is None and self.chat_bridge.info is None:
            # The session hears of a load first; its info is the same model.
            self.chat_bridge.info = self.session.info
        return self.bridge.info

    # ---- runs -------------------------------------------------------------------------------

    def busy(self) -> bool:
        return self.runner.busy()

    def translate(self) -> None:
        panel = self.panel
        text = panel.source_text()
        if self.busy():
            return
        if not text.strip():
            panel.show_error(EMPTY_INPUT)
            panel.source_edit.setFocus()
            return
        source, target = panel.source_code(), panel.target_code()
        if source == target:
            panel.show_error("The source and target languages are the same: pick another one.")
            return
        info = self._ready_model(retry=True)
        if info is None:
            return
        glossary = self.glossaries.current()
        back = panel.wants_back_translation()
        translator = self.translator
        translator.model_name = info.name
        panel.begin_translation()
        self._coalescer.discard()
        self._back_coalescer.discard()
        panel.show_busy("Preparing…")
        if source is None:
            panel.begin_detection()
        runner = self.runner

        def run() -> None:
            run_text(runner, translator, text, source, target, glossary, back, info.name)

        self._start(run, "text", translator)

    def detect_language(self) -> None:
        text = self.panel.source_text()
        if self.busy():
            return
        if not text.strip():
            self.panel.show_error("Type or paste some text first, then detect its language.")
            return
        self.panel.show_busy("")
        self.panel.begin_detection()
        runner = self.runner
        self._start(lambda: run_detect(runner, text), "detect")

    def translate_file(self, path: str) -> None:
        if self.busy():
            return
        source = Path(path)
        target = self.panel.target_code()
        info = self._ready_model(retry=False)
        if info is None:
            return
        translator = self.translator
        translator.model_name = info.name
        glossary = self.glossaries.current()
        source_lang = self.panel.source_code() or self.panel.detected_code()
        self.panel.hide_message()
        self.panel.show_flags(())
        self.panel.show_busy(f"Reading {source.name}…")
        runner = self.runner

        def run() -> None:
            run_file(runner, translator, source, target, source_lang, glossary)

        self._start(run, "file", translator)

    def on_files_dropped(self, paths: list[str]) -> None:
        """A dropped file is translated like one picked with "Translate file…", once the
        user confirmed the name of the file it writes."""
        panel = self.panel
        if len(paths) != 1:
            panel.show_error(
                f"{len(paths)} files were dropped. Drop one file at a time to translate it."
            )
            return
        source = Path(paths[0])
        if self.busy():
            panel.show_error(
                f"A translation is running. Wait for it or cancel it, then drop {source.name} "
                "again."
            )
            return
        if source.is_dir():
            panel.show_error(f"{source.name} is a folder. Drop one file to translate it.")
            return
        if source.suffix.lower() not in SUPPORTED:
            kinds = ", ".join(SUPPORTED)
            panel.show_error(
                f"{source.name} cannot be translated here: Hearth translates {kinds} files. "
                "To paste some text instead, drop or paste it into the source box."
            )
            return
        target = output_path(source, panel.target_code())
        panel.hide_message()
        panel.ask_to_translate_file(
            str(source),
            f"Translate {source.name} into {panel.language_label(panel.target_code())}? "
            f"The translation is saved next to it as {target.name}; "
            f"{source.name} and any file already there are not changed.",
        )

    def cancel(self) -> None:
        """Stop the running job (it ends within a second; partial text stays)."""
        if self.runner.cancel():
            self.panel.show_status("Cancelling…")

    def _ready_model(self, *, retry: bool) -> ModelInfo | None:
        """The model to use now, or None after telling the user (and, with `retry`,
        translating once the chat model is back)."""
        info = self._model_info()
        if info is not None:
            return info
        if self.own is not None:
            self.panel.show_error(
                "The translation model is still loading. Try again when it is ready."
            )
            return None
        if not self.session.is_loading:
            # Nothing is loading (the engine stopped, or a load failed): the chat reloads
            # only on its next message, so start it here.
            self.session.load_chosen()
        if retry:
            self._translate_when_ready = True
            self.panel.show_status("Loading the model… the translation starts when it is ready.")
        else:
            self.panel.show_error("The model is loading. Try again when it is ready.")
        return None

    def _on_chat_model_ready(self, info: ModelInfo) -> None:
        self.chat_bridge.info = info
        if self._translate_when_ready and self.own is None:
            self._translate_when_ready = False
            self.translate()

    def _start(
        self, body: Callable[[], None], kind: str, translator: Translator | None = None
    ) -> None:
        bridge = self.bridge if translator is not None else None
        self.panel.set_busy(True)
        self.runner.start(body, kind, translator, bridge)

    def _end_job(self) -> None:
        self.runner.join()
        self._coalescer.flush()
        self._back_coalescer.flush()
        self.panel.set_busy(False)

    def _on_back_started(self) -> None:
        self._coalescer.flush()
        self.panel.begin_back_translation()

    def _on_job_finished(self, result: TextResult | FileTranslation | None) -> None:
        self._end_job()
        panel = self.panel
        if isinstance(result, TextResult):
            self._show_text_result(result)
        elif isinstance(result, FileTranslation):
            panel.show_flags(result.flags)
            panel.show_status(f"Saved {result.path.name} next to the source file.")
            panel.show_info(f"The translation was saved as {result.path}.")
        else:
            panel.show_status("")

    def _show_text_result(self, result: TextResult) -> None:
        panel = self.panel
        translation = result.translation
        panel.set_translation(translation.text)
        if result.back is not None:
            panel.set_back_translation(result.back)
        panel.show_flags(translation.flags, self._marks(result))
        total, reused = translation.paragraphs_total, translation.paragraphs_reused
        if translation.not_done_status:  # the flags say why, in full
            panel.show_status(translation.not_done_status)
        elif reused:
            panel.show_status(
                f"Done. {reused} of {total} paragraphs were unchanged and reused; "
                f"{total - reused} translated."
            )
        else:
            panel.show_status(f"Done. {total} paragraph{'s' if total != 1 else ''} translated.")
        self.history.add(
            source_text=result.source,
            translation=translation.text,
            source_lang=result.source_lang,
            target_lang=result.target_lang,
            model=result.model,
        )

    def _marks(self, result: TextResult) -> list[TermMark]:
        """Where the glossary problems are, if the texts are still the ones translated."""
        source, translation = self.panel.source_text(), self.panel.translation_text()
        if source != result.source or translation != result.translation.text:
            return []  # edited while the translation ran: the positions would be wrong
        return [
            TermMark(
                v.message,
                v.term,
                v.expected,
                v.source_spans,
                v.translation_spans,
                v.translation_exact,
            )
            for v in result.glossary.violations(source, translation)
        ]

    def _on_job_failed(self, kind: str, message: str) -> None:
        self._end_job()
        panel = self.panel
        file_job = self.runner.kind == "file"
        if kind == "cancelled" and file_job:
            panel.show_status("Cancelled. No file was written.")
        elif kind == "cancelled":
            kept = "The partial translation is kept." if panel.translation_text() else ""
            panel.show_status(f"Cancelled. {kept}".strip())
        elif kind == "undecided":
            panel.show_status("")
            panel.show_error(message)
        elif file_job:
            panel.show_status("Stopped. No file was written.")
            panel.show_error(message)
        else:
            panel.show_status("Stopped.")
            kept = " Your text and the partial translation are kept."
            panel.show_error(message + (kept if panel.translation_text() else ""))

    # ---- languages, history, model ------------------------------------------------------------

    def _on_languages_changed(self) -> None:
        self.glossaries.show_pair(self.panel.source_code(), self.panel.target_code())

    def show_remote_models(self, models: list[tuple[str, str]]) -> None:
        """The servers' models (connection name, model id), as the Models page listed them."""
        self.panel.model_choice.show_remote(models)

    # ---- shutdown -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel the running job, stop the translation-only engine, join the job thread."""
        self.glossaries.save()
        if self.busy():
            own = self.own
            self.runner.shutdown([self.chat_bridge] + ([own.bridge] if own else []))
            self.panel.set_busy(False)
        self.model.stop()


def install_translation(
    window: MainWindow,
    session: EngineSession,
    store: SettingsStore,
    paths: HearthPaths,
    database: Database,
) -> TranslationController:
    """Build the Translate page, add it to the window and wire it to the app's engine
    session."""
    panel = TranslationPanel(window)
    window.add_page("Translate", panel)
    return TranslationController(
        panel,
        session,
        store,
        paths,
        TranslationRepository(database),
        glossaries_file=paths.data_dir / GLOSSARIES_FILE,
    )


def _default_target() -> str:
    code = QLocale.system().name().split("_")[0]
    return code if is_known(code) and code != "en" else "en"
