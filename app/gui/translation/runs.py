"""The Translate page's one worker thread and the translation runs it does (text with
detection and back-translation, detection alone, a file).

Threads: `TranslationRunner` is created and driven in the GUI thread; run bodies run as a task
(app/gui/tasks.py) and report only through `TranslationRunSignals` (queued to the GUI thread). Every
failure ends as one `failed` signal with a plain-words message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.gui.engine_bridge import EngineBridge
from app.gui.tasks import Task, TaskContext, TaskRunner
from app.languages.codes import language
from app.languages.detect import detect
from app.translation.files import FileFormatError, translate_file
from app.translation.glossary import Glossary
from app.translation.translator import Translation, TranslationCancelled, Translator
from inference.sync_client import EngineError

SHUTDOWN_WAIT_S = 4.0
log = logging.getLogger(__name__)


class TranslationRunSignals(QObject):
    """Emitted on the job thread, received in the GUI thread (queued)."""

    delta = Signal(str)
    backStarted = Signal()
    backDelta = Signal(str)
    progressed = Signal(int, int, object)  # done, total, seconds left or None
    detected = Signal(object, str)  # code or None, message
    finished = Signal(object)  # TextResult, FileTranslation or None (detection only)
    failed = Signal(str, str)  # kind ("cancelled", "undecided", "error"), message


@dataclass(frozen=True)
class TextResult:
    source: str
    translation: Translation
    back: str | None
    source_lang: str | None
    target_lang: str
    model: str
    glossary: Glossary


class TranslationRunner(QObject):
    """One job at a time, as a task (app/gui/tasks.py). `kind` ("text", "file" or "detect")
    says what the last one was, so its end can be reported in the right words."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.signals = TranslationRunSignals(self)
        self.kind = ""
        self._tasks = TaskRunner(self)
        self._task: Task[None] | None = None
        self.cancelled = threading.Event()  # job bodies check it between steps

    def busy(self) -> bool:
        return self._task is not None

    def start(
        self,
        body: Callable[[], None],
        kind: str,
        translator: Translator | None = None,
        bridge: EngineBridge | None = None,
    ) -> None:
        self.kind = kind
        if bridge is not None:
            bridge.reset_cancel()
        self.cancelled.clear()
        signals = self.signals

        def guarded(_context: TaskContext) -> None:
            # The body reports through `signals`, so every end is one of them, in order.
            try:
                body()
            except TranslationCancelled:
                signals.failed.emit("cancelled", "")
            except EngineError as exc:
                kind = "cancelled" if exc.kind == "cancelled" else "error"
                signals.failed.emit(kind, _engine_message(exc))
            except FileFormatError as exc:
                signals.failed.emit("error", str(exc))
            except OSError as exc:
                name = Path(exc.filename).name if exc.filename else "the file"
                signals.failed.emit(
                    "error", f"{name} cannot be read or written: {exc.strerror or exc}."
                )
            except Exception as exc:  # the job must always end with a signal
                log.exception("translation job failed")
                signals.failed.emit("error", f"Something went wrong: {exc}")

        def on_cancel() -> None:
            self.cancelled.set()
            if translator is not None:
                translator.cancel()

        self._task = self._tasks.start(guarded, name="translation-job", on_cancel=on_cancel)

    def cancel(self) -> bool:
        """Ask the running job to stop (it ends within a second); False when none runs."""
        if self._task is None:
            return False
        self._task.cancel()
        return True

    def join(self) -> None:
        """After the job's last signal: the thread is about to end."""
        if self._task is not None:
            self._task.join()
            self._task = None

    def shutdown(self, bridges: Sequence[EngineBridge]) -> None:
        """Cancel the running job and wait for it, waking it through `bridges` if the engine
        is not answering (its requests travel through the GUI thread, which tasks.py pumps)."""
        if self._task is None:
            return

        def wake() -> None:
            for bridge in bridges:
                bridge.abort_pending("Hearth is closing.")

        self._tasks.shutdown(time.monotonic() + SHUTDOWN_WAIT_S, on_stuck=wake)
        self._task = None


# ---- job bodies (job thread) ----------------------------------------------------------------


def run_text(
    runner: TranslationRunner,
    translator: Translator,
    text: str,
    source: str | None,
    target: str,
    glossary: Glossary,
    back: bool,
    model: str,
) -> None:
    """Detect the language if needed, translate, and translate back when asked."""
    signals = runner.signals
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
                f"The text is already in {language(target).name}: pick another target language.",
            )
            return
    if runner.cancelled.is_set():
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
    signals.finished.emit(TextResult(text, result, back_text, source, target, model, glossary))


def run_detect(runner: TranslationRunner, text: str) -> None:
    detection = detect(text)
    if detection.code is not None:
        runner.signals.detected.emit(detection.code, "")
    else:
        runner.signals.detected.emit(None, detection.message)
    runner.signals.finished.emit(None)


def run_file(
    runner: TranslationRunner,
    translator: Translator,
    source: Path,
    target: str,
    source_lang: str | None,
    glossary: Glossary,
) -> None:
    result = translate_file(
        source,
        translator,
        target_lang=target,
        source_lang=source_lang,
        glossary=glossary,
        on_progress=runner.signals.progressed.emit,
    )
    runner.signals.finished.emit(result)


def _engine_message(error: EngineError) -> str:
    text = str(error).strip() or error.kind
    if error.kind == "crashed":
        return f"The engine stopped in the middle of the translation ({text})."
    if error.kind == "prompt_too_long":
        return f"The translation instructions, glossary and text do not fit: {sentence(text)}"
    return f"The translation stopped: {sentence(text)}"


def sentence(text: str) -> str:
    """`text` as a sentence: capital first letter, closing full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
