"""`hearth bench`'s progress on stderr (the runs and the thread search alike)."""

from __future__ import annotations

from typing import Any


class StderrProgress:
    """Progress on stderr: one line rewritten in place on a terminal, else a line per
    configuration and repetition (logs stay short)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = ""
        self._dirty = False

    def step(self, step: Any) -> None:
        where = f"[{step.index}/{step.count}]"
        if step.phase in ("load", "warmup"):
            text = f"{where} {'loading the model' if step.phase == 'load' else 'warming up'}…"
        else:
            text = f"{where} repetition {step.repetition}/{step.repetitions}"
        if self._tty:
            detail = f" {step.phase} {step.done}/{step.total}" if step.total else ""
            self._stream.write("\r\x1b[K" + text + detail)
            self._stream.flush()
            self._dirty = True
        elif text != self._last:
            print(text, file=self._stream, flush=True)
        self._last = text

    def line(self, text: str) -> None:
        self.end()
        print(text, file=self._stream, flush=True)

    def end(self) -> None:
        if self._dirty:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._dirty = False
