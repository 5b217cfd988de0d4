"""Batch streamed text so the view repaints at a steady ≈30 Hz, whatever the model's speed.

GUI thread only: ``push`` is called from the slot that receives the engine's deltas (queued
to the GUI thread), and ``flushed`` fires on the GUI thread from a QTimer.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal


class DeltaCoalescer(QObject):
    """Collects text pushed at any rate and emits it in batches every ``interval_ms``.

    The first delta after a quiet period is emitted at once, so the time to first token the
    user sees is not delayed by the batching. Call :meth:`flush` when the stream ends.
    """

    flushed = Signal(str)

    def __init__(self, interval_ms: int = 33, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._buffer: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def pending(self) -> str:
        """Text pushed but not emitted yet."""
        return "".join(self._buffer)

    def push(self, text: str) -> None:
        """Queue ``text``; emits immediately when nothing was emitted for a whole interval."""
        if not text:
            return
        if self._timer.isActive():
            self._buffer.append(text)
            return
        # Quiet until now: show this delta at once and start batching what follows.
        self._timer.start()
        self.flushed.emit(text)

    def flush(self) -> None:
        """Emit whatever is pending now and go quiet (the stream ended or was stopped)."""
        self._timer.stop()
        self._emit_buffer()

    def discard(self) -> None:
        """Drop pending text without emitting it (the reply was thrown away)."""
        self._timer.stop()
        self._buffer.clear()

    def _on_timeout(self) -> None:
        if not self._buffer:
            # Nothing arrived for a whole interval: the next delta goes out immediately.
            self._timer.stop()
            return
        self._emit_buffer()

    def _emit_buffer(self) -> None:
        if self._buffer:
            text = "".join(self._buffer)
            self._buffer.clear()
            self.flushed.emit(text)
