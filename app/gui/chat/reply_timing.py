"""A reply's timings on the chat's side (issue 12): the marks the app takes (text painted),
the prefill progress shown where the reply will appear, and the trace stored with the reply.
A mixin of ChatController (app/gui/chat/controller.py), beside reply_turn.py."""

from __future__ import annotations

import time

from app.chat.prefill_progress import progress_text
from app.chat.trace_record import GuiMarks, model_facts, trace_record
from app.gui.chat.turn import Turn
from app.gui.session import EngineSession
from inference.protocol import ServerFigures, Trace
from storage.records import TraceRecord
from ui.main_window import MainWindow


class ReplyTiming:
    """Part of ChatController: the attributes below are set in its __init__."""

    window: MainWindow
    session: EngineSession
    current_conversation: int | None
    _turn: Turn | None

    def _on_prefill_progress(self, request_id: int, done: int, total: int) -> None:
        """Say in the reply's place how far the engine has read a long prompt."""
        turn = self._turn
        if turn is None or turn.request_id != request_id or turn.first_token_at is not None:
            return
        estimate = turn.prefill
        estimate.report(time.perf_counter(), done, total)
        if estimate.reading and turn.conversation_id == self.current_conversation:
            text = progress_text(done, total, estimate.seconds_left)
            self.window.chat_view.show_reply_progress(text)

    def _trace_record(
        self, trace: Trace | None, marks: GuiMarks, server: ServerFigures | None = None
    ) -> TraceRecord | None:
        """What is stored of the reply's timings; None when the engine sent no trace
        (recording off). A reply that failed or was cut off by a crash gets no Done, so no
        trace: nothing of its timeline is stored."""
        if trace is None:
            return None
        info = self.session.info
        requested = self.session.choices()[0].n_gpu_layers
        facts = model_facts(info, requested) if info else None
        return trace_record(trace, marks, facts, server)

    def _on_painted(self, _text: str) -> None:
        """Streamed text reached the chat view (connected after the view's append_delta)."""
        turn = self._turn
        if turn is None:
            return
        now = time.perf_counter()
        if turn.first_paint_at is None:
            turn.first_paint_at = now
        turn.last_paint_at = now
