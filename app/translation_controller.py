"""Drives the Translate page: runs translations, detection and file jobs on a worker thread
against the chat's engine (through an EngineBridge) or a translation-only engine, keeps
glossaries per language pair and stores finished translations in the history.

Threads: everything here runs in the GUI thread except the bodies of `_run_*`, which run
on the one job thread and talk back only through `_JobSignals` (queued to the GUI thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QObject, QTimer, Signal

from app.chat_controller import ChatController
from app.engine_bridge import EngineBridge
from app.translation.detect import detect
from app.translation.files import FileFormatError, FileTranslation, translate_file
from app.translation.glossary import Glossary, GlossaryError, Term, dump_json, load_glossary
from app.translation.glossary_store import GlossaryStore, pair_key, split_pair, write_text_atomic
from app.translation.languages import LANGUAGES, is_known, language
from app.translation.translator import Translation, TranslationCancelled, Translator
from inference.client import EngineClient
from inference.protocol import EngineSettings, ModelInfo
from inference.sync_engine import EngineError
from storage.database import Database, DatabaseError
from storage.translations import TranslationRecord, TranslationRepository
from ui.delta_coalescer import DeltaCoalescer
from ui.main_window import MainWindow
from ui.translation_history import HistoryEntry
from ui.translation_panel import TranslationPanel

SHUTDOWN_WAIT_S = 4.0
GLOSSARY_SAVE_DELAY_MS = 800
GLOSSARIES_FILE = "translation_glossaries.json"
EMPTY_INPUT = "There is no text to translate. Type or paste some text on the left."


class _JobSignals(QObject):
    """Emitted on the job thread, received in the GUI thread (queued)."""

    delta = Signal(str)
    backStarted = Signal()
    backDelta = Signal(str)
    progressed = Signal(int, int, object)  # done, total, seconds left or None
    detected = Signal(object, str)  # code or None, message
    finished = Signal(object)  # _TextResult, FileTranslation or None (detection only)
    failed = Signal(str, str)  # kind ("cancelled", "undecided", "error"), message


@dataclass(frozen=True)
class _TextResult:
    source: str
    translation: Translation
    back: str | None
    source_lang: str | None
    target_lang: str
    model: str


@dataclass
class _OwnEngine:
    """A second engine process that serves translations only."""

    path: str
    client: EngineClient
    bridge: EngineBridge
    translator: Translator
    load_request: int


class TranslationController(QObject):
    """Signals: ``jobFinished()`` whenever a job ends (done, cancelled or failed),
    ``translationModelReady(ModelInfo)`` when a translation-only model has loaded."""

    jobFinished = Signal()
    translationModelReady = Signal(object)

    def __init__(
        self,
        panel: TranslationPanel,
        chat: ChatController,
        history: TranslationRepository,
        glossaries_file: Path | None = None,
    ) -> None:
        super().__init__(panel)
        self.panel = panel
        self.chat = chat
        self.history = history
        self.chat_bridge = EngineBridge(chat.client, parent=self, info=chat.model_info)
        self.chat_translator = Translator(self.chat_bridge)
        self.own: _OwnEngine | None = None
        self._job: threading.Thread | None = None
        self._job_translator: Translator | None = None
        self._job_cancelled = threading.Event()
        self._translate_when_ready = False
        self._job_kind = ""  # "text", "file" or "detect"
        chat.modelReady.connect(self._on_chat_model_ready)

        self._glossaries = GlossaryStore(glossaries_file)
        self._pair = ""
        self._save_timer = QTimer(
            self, interval=GLOSSARY_SAVE_DELAY_MS, singleShot=True, timeout=self._save_glossaries
        )

        self._signals = _JobSignals(self)
        self._coalescer = DeltaCoalescer(parent=self)
        self._coalescer.flushed.connect(panel.append_translation)
        self._back_coalescer = DeltaCoalescer(parent=self)
        self._back_coalescer.flushed.connect(panel.append_back_translation)
        self._signals.delta.connect(self._coalescer.push)
        self._signals.backStarted.connect(self._on_back_started)
        self._signals.backDelta.connect(self._back_coalescer.push)
        self._signals.progressed.connect(panel.show_progress)
        self._signals.detected.connect(panel.show_detection)
        self._signals.finished.connect(self._on_job_finished)
        self._signals.failed.connect(self._on_job_failed)

        panel.set_languages([(lang.code, lang.endonym) for lang in LANGUAGES])
        panel.set_target_code(_default_target())
        panel.translateRequested.connect(self.translate)
        panel.cancelRequested.connect(self.cancel)
        panel.detectRequested.connect(self.detect_language)
        panel.fileChosen.connect(self.translate_file)
        panel.languagesChanged.connect(self._on_languages_changed)
        panel.modelChosen.connect(self.use_model)
        panel.glossary.changed.connect(self._on_glossary_edited)
        panel.glossary.loadRequested.connect(self.load_glossary_file)
        panel.glossary.saveRequested.connect(self.save_glossary_file)
        panel.history.searchChanged.connect(self.refresh_history)
        panel.history.entryChosen.connect(self.restore)
        self._on_languages_changed()
        self.refresh_history()

    # ---- which engine ----------------------------------------------------------------------

    @property
    def translator(self) -> Translator:
        """The translator the next job uses (its engine may be wrapped, e.g. by tests)."""
        return self.own.translator if self.own is not None else self.chat_translator

    @property
    def bridge(self) -> EngineBridge:
        return self.own.bridge if self.own is not None else self.chat_bridge

    def _model_info(self) -> ModelInfo | None:
        if self.own is None and self.chat_bridge.info is None:
            # The chat hears of a load first; its info is the same model.
            self.chat_bridge.info = self.chat.model_info
        return self.bridge.info

    # ---- text translation ----------------------------------------------------------------

    def busy(self) -> bool:
        return self._job is not None

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
        glossary = self._current_glossary()
        back = panel.wants_back_translation()
        translator = self.translator
        translator.model_name = info.name
        panel.begin_translation()
        self._coalescer.discard()
        self._back_coalescer.discard()
        panel.show_busy("Detecting the language…" if source is None else "Preparing…")

        def run() -> None:
            self._run_text(translator, text, source, target, glossary, back, info.name)

        self._start(run, translator, "text")

    def _run_text(
        self,
        translator: Translator,
        text: str,
        source: str | None,
        target: str,
        glossary: Glossary,
        back: bool,
        model: str,
    ) -> None:
        signals = self._signals
        if source is None:
            detection = detect(text)
            signals.detected.emit(detection.code, detection.message)
            if detection.code is None:
                signals.failed.emit("undecided", detection.message)
                return
            source = detection.code
            if source == target:
                signals.failed.emit(
                    "undecided",
                    f"The text is already in {language(target).name}: pick another target "
                    "language.",
                )
                return
        if self._job_cancelled.is_set():
            raise TranslationCancelled("")
        result = translator.translate(
            text,
            source_lang=source,
            target_lang=target,
            glossary=glossary,
            on_delta=signals.delta.emit,
            on_progress=signals.progressed.emit,
        )
        back_text: str | None = None
        if back:
            signals.backStarted.emit()
            back_text = translator.back_translate(
                result.text,
                source_lang=source,
                target_lang=target,
                on_delta=signals.backDelta.emit,
                on_progress=signals.progressed.emit,
            ).text
        signals.finished.emit(_TextResult(text, result, back_text, source, target, model))

    def detect_language(self) -> None:
        text = self.panel.source_text()
        if self.busy():
            return
        if not text.strip():
            self.panel.show_error("Type or paste some text first, then detect its language.")
            return
        self.panel.show_busy("Detecting the language…")

        def run() -> None:
            detection = detect(text)
            if detection.code is not None:
                self._signals.detected.emit(detection.code, "")
            else:
                self._signals.detected.emit(None, detection.message)
            self._signals.finished.emit(None)

        self._start(run, None, "detect")

    # ---- files ----------------------------------------------------------------------------

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
        glossary = self._current_glossary()
        source_lang = self.panel.source_code() or self.panel.detected_code()
        self.panel.hide_message()
        self.panel.show_flags(())
        self.panel.show_busy(f"Reading {source.name}…")

        def run() -> None:
            result = translate_file(
                source,
                translator,
                target_lang=target,
                source_lang=source_lang,
                glossary=glossary,
                on_progress=self._signals.progressed.emit,
            )
            self._signals.finished.emit(result)

        self._start(run, translator, "file")

    # ---- job plumbing ---------------------------------------------------------------------

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
        if not self.chat.is_loading:
            # Nothing is loading (the engine stopped, or a load failed): the chat reloads
            # only on its next message, so start it here.
            self.chat.load_model()
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

    def _start(self, body: Callable[[], None], translator: Translator | None, kind: str) -> None:
        self._job_kind = kind
        bridge = self.bridge if translator is not None else None
        if bridge is not None:
            bridge.reset_cancel()
        self._job_cancelled.clear()
        self._job_translator = translator

        def guarded() -> None:
            try:
                body()
            except TranslationCancelled:
                self._signals.failed.emit("cancelled", "")
            except EngineError as exc:
                kind = "cancelled" if exc.kind == "cancelled" else "error"
                self._signals.failed.emit(kind, _engine_message(exc))
            except FileFormatError as exc:
                self._signals.failed.emit("error", str(exc))
            except OSError as exc:
                name = Path(exc.filename).name if exc.filename else "the file"
                self._signals.failed.emit(
                    "error", f"{name} cannot be read or written: {exc.strerror or exc}."
                )
            except Exception as exc:  # the job must always end with a signal
                self._signals.failed.emit("error", f"Something went wrong: {exc}")

        self.panel.set_busy(True)
        self._job = threading.Thread(target=guarded, name="translation-job", daemon=True)
        self._job.start()

    def cancel(self) -> None:
        """Stop the running job (it ends within a second; partial text stays)."""
        if self._job is None:
            return
        self._job_cancelled.set()
        if self._job_translator is not None:
            self._job_translator.cancel()
        self.panel.show_status("Cancelling…")

    def _end_job(self) -> None:
        if self._job is not None:
            self._job.join()
            self._job = None
        self._job_translator = None
        self._coalescer.flush()
        self._back_coalescer.flush()
        self.panel.set_busy(False)

    def _on_back_started(self) -> None:
        self._coalescer.flush()
        self.panel.begin_back_translation()

    def _on_job_finished(self, result: _TextResult | FileTranslation | None) -> None:
        self._end_job()
        panel = self.panel
        if isinstance(result, _TextResult):
            self._show_text_result(result)
        elif isinstance(result, FileTranslation):
            panel.show_flags(result.flags)
            panel.show_status(f"Saved {result.path.name} next to the source file.")
            panel.show_info(f"The translation was saved as {result.path}.")
        else:
            panel.show_status("")
        self.jobFinished.emit()

    def _show_text_result(self, result: _TextResult) -> None:
        panel = self.panel
        translation = result.translation
        panel.set_translation(translation.text)
        if result.back is not None:
            panel.set_back_translation(result.back)
        panel.show_flags(translation.flags)
        total, reused = translation.paragraphs_total, translation.paragraphs_reused
        if reused:
            panel.show_status(
                f"Done. {reused} of {total} paragraphs were unchanged and reused; "
                f"{total - reused} translated."
            )
        else:
            panel.show_status(f"Done. {total} paragraph{'s' if total != 1 else ''} translated.")
        try:
            self.history.add(
                source_text=result.source,
                translation=translation.text,
                source_lang=result.source_lang,
                target_lang=result.target_lang,
                model=result.model,
            )
        except DatabaseError as exc:
            panel.show_error(f"The translation could not be saved in the history: {exc}")
            return
        self.refresh_history()

    def _on_job_failed(self, kind: str, message: str) -> None:
        self._end_job()
        panel = self.panel
        if kind == "cancelled" and self._job_kind == "file":
            panel.show_status("Cancelled. No file was written.")
        elif kind == "cancelled":
            kept = "The partial translation is kept." if panel.translation_text() else ""
            panel.show_status(f"Cancelled. {kept}".strip())
        elif kind == "undecided":
            panel.show_status("")
            panel.show_error(message)
        elif self._job_kind == "file":
            panel.show_status("Stopped. No file was written.")
            panel.show_error(message)
        else:
            panel.show_status("Stopped.")
            kept = " Your text and the partial translation are kept."
            panel.show_error(message + (kept if panel.translation_text() else ""))
        self.jobFinished.emit()

    # ---- glossaries -----------------------------------------------------------------------

    def _on_languages_changed(self) -> None:
        self._pair = pair_key(self.panel.source_code(), self.panel.target_code())
        glossary = self._glossaries.get(self._pair)
        self.panel.glossary.set_entries(
            [(t.source, t.target) for t in glossary.terms], glossary.keep
        )
        source, target = split_pair(self._pair)
        label = "any language" if source is None else self.panel.language_label(source)
        self.panel.glossary.set_pair_label(f"{label} → {self.panel.language_label(target)}")

    def _current_glossary(self) -> Glossary:
        terms, keep = self.panel.glossary.entries()
        source, target = split_pair(self._pair)
        return Glossary(tuple(Term(s, t) for s, t in terms), tuple(keep), source, target)

    def _on_glossary_edited(self) -> None:
        self._glossaries.put(self._pair, self._current_glossary())
        self._save_timer.start()

    def load_glossary_file(self, path: str) -> None:
        try:
            glossary = load_glossary(Path(path))
        except GlossaryError as exc:
            self.panel.show_error(f"The glossary was not loaded. {_sentence(str(exc))}")
            return
        self.panel.glossary.set_entries(
            [(t.source, t.target) for t in glossary.terms], glossary.keep
        )
        self._on_glossary_edited()
        count = len(glossary.terms) + len(glossary.keep)
        self.panel.show_status(f"Loaded {count} glossary entries from {Path(path).name}.")

    def save_glossary_file(self, path: str) -> None:
        try:
            write_text_atomic(Path(path), dump_json(self._current_glossary()))
        except OSError as exc:
            self.panel.show_error(f"The glossary was not saved: {exc.strerror or exc}.")
            return
        self.panel.show_status(f"Glossary saved to {Path(path).name}.")

    def _save_glossaries(self) -> None:
        self._save_timer.stop()
        try:
            self._glossaries.save()
        except OSError as exc:
            self.panel.show_error(f"The glossaries could not be saved: {exc.strerror or exc}.")

    # ---- history --------------------------------------------------------------------------

    def refresh_history(self, text: str | None = None) -> None:
        query = self.panel.history.search_text() if text is None else text
        try:
            records = self.history.search(query)
        except DatabaseError as exc:
            self.panel.show_error(f"The history could not be read: {exc}")
            return
        self.panel.history.set_entries(self._entry(record) for record in records)

    def _entry(self, record: TranslationRecord) -> HistoryEntry:
        source = self.panel.language_label(record.source_lang)
        target = self.panel.language_label(record.target_lang)
        return HistoryEntry(
            record.id,
            record.source_text,
            record.translation,
            f"{source} → {target}",
            record.model,
            record.created_at,
        )

    def restore(self, translation_id: int) -> None:
        if self.busy():
            self.panel.show_error("Cancel the running translation first, then pick from history.")
            return
        record = self.history.get(translation_id)
        if record is None:
            self.panel.show_error("That translation is no longer in the history.")
            self.refresh_history()
            return
        source = record.source_lang if record.source_lang and is_known(record.source_lang) else None
        self.panel.restore(record.source_text, record.translation, source, record.target_lang)
        self.panel.show_status("Restored from history.")

    # ---- translation-only model -----------------------------------------------------------

    def use_model(self, path: str) -> None:
        """Translate with the GGUF at `path` in its own engine; "" goes back to the chat's."""
        if self.busy():
            self.panel.show_error("Cancel the running translation first, then switch models.")
            self.panel.show_model_in_use(self.own is not None)
            return
        self._stop_own_engine()
        if not path:
            self.panel.show_model_in_use(False)
            self.panel.set_model_label("")
            return
        if not Path(path).is_file():
            self.panel.show_error(f"{path}: no such model file.")
            self.panel.show_model_in_use(False)
            return
        client = EngineClient(self)
        bridge = EngineBridge(client, parent=self)
        client.modelLoaded.connect(self._on_own_loaded)
        client.loadProgressed.connect(self._on_own_progress)
        client.requestFailed.connect(self._on_own_failed)
        client.engineCrashed.connect(self._on_own_crashed)
        settings = self.chat.settings
        request = client.load(
            EngineSettings(
                model_path=path,
                n_ctx=settings.n_ctx,
                n_gpu_layers=settings.n_gpu_layers,
                n_threads=settings.n_threads,
                n_batch=settings.n_batch,
                flash_attn=settings.flash_attn,
            )
        )
        self.own = _OwnEngine(path, client, bridge, Translator(bridge), request)
        self.panel.show_model_in_use(True)
        self.panel.set_model_label(f"Loading {Path(path).name}…")

    def _on_own_progress(self, request_id: int, fraction: float, _text: str) -> None:
        own = self.own
        if own is not None and request_id == own.load_request:
            self.panel.set_model_label(f"Loading {Path(own.path).name}… {fraction:.0%}")

    def _on_own_loaded(self, request_id: int, info: ModelInfo) -> None:
        own = self.own
        if own is None or request_id != own.load_request:
            return
        self.panel.set_model_label(f"{info.name} (translation only)")
        self.translationModelReady.emit(info)

    def _on_own_failed(self, request_id: int, _kind: str, message: str) -> None:
        own = self.own
        if own is not None and request_id == own.load_request:
            name = Path(own.path).name
            self._stop_own_engine()
            self.panel.show_model_in_use(False)
            self.panel.set_model_label("")
            self.panel.show_error(
                f"{name} could not be loaded: {message.splitlines()[0] if message else ''} "
                "Translations use the chat model."
            )

    def _on_own_crashed(self, reason: str) -> None:
        if self.own is not None and self._job is None:
            self.panel.show_error(f"The translation model stopped: {reason}")

    def _stop_own_engine(self) -> None:
        own, self.own = self.own, None
        if own is None:
            return
        own.client.shutdown()
        own.bridge.deleteLater()
        own.client.deleteLater()

    # ---- shutdown -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel the running job, stop the translation-only engine, join the job thread."""
        self._save_glossaries()
        job = self._job
        if job is not None:
            self.cancel()
            if not self._pump_until_done(job, SHUTDOWN_WAIT_S):
                # The engine did not answer: fail the bridge's pending requests so the job
                # thread wakes up and ends.
                for bridge in (self.chat_bridge, self.own.bridge if self.own else None):
                    if bridge is not None:
                        bridge.abort_pending("Hearth is closing.")
                self._pump_until_done(job, 1.0)
            job.join(0.5)
            self._job = None
            self.panel.set_busy(False)
        self._stop_own_engine()

    @staticmethod
    def _pump_until_done(job: threading.Thread, seconds: float) -> bool:
        # The job's engine requests and its final signal travel through this (GUI) thread's
        # event loop, so it must keep turning while we wait.
        deadline = time.monotonic() + seconds
        while job.is_alive() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            job.join(0.02)
        return not job.is_alive()


def install_translation(
    window: MainWindow, chat: ChatController, database: Database
) -> TranslationController:
    """Build the Translate page, add it to the window and wire it to the chat's engine."""
    panel = TranslationPanel(window)
    window.add_page("Translate", panel)
    return TranslationController(
        panel,
        chat,
        TranslationRepository(database),
        glossaries_file=chat.paths.data_dir / GLOSSARIES_FILE,
    )


def _default_target() -> str:
    code = QLocale.system().name().split("_")[0]
    return code if is_known(code) and code != "en" else "en"


def _engine_message(error: EngineError) -> str:
    text = str(error).strip() or error.kind
    if error.kind == "crashed":
        return f"The engine stopped in the middle of the translation ({text})."
    return f"The translation stopped: {_sentence(text)}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
