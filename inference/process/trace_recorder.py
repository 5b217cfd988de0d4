"""Recording a request's timeline in the engine process (issue 12): the marks a generation
collects while it runs (`TraceRecorder`), what the engine worked on meanwhile (`WorkHistory`)
and the Trace both make at the end. inference/trace.py defines every field.

Everything here is per request or per prefill batch, except one float appended to an
array('f') per token: no object per token, no event per token beyond the deltas.
`HEARTH_TRACE=0` in the engine's environment turns recording off (bench/trace_overhead.py
compares decode speed with and without it); Done.trace is then None.
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Sequence

from inference.protocol import LlamaPerf
from inference.trace import CacheMiss, RanMeanwhile, Trace, pack_token_ms

# Read once when the engine process starts: only the overhead benchmark turns it off.
RECORDING = os.environ.get("HEARTH_TRACE", "1") != "0"


class TraceRecorder:
    """One generation's marks, in perf_counter seconds (absolute) or seconds (durations).
    Engine main thread only. The worker fills receipt, start, template and tokenize; the
    generation loop the rest."""

    def __init__(self, recording: bool = RECORDING) -> None:
        self.recording = recording
        self.received = 0.0
        self.started = 0.0
        self.template_s = 0.0
        self.tokenize_s = 0.0
        self.prefill_s = 0.0
        self.decode_s = 0.0
        self.batches: list[tuple[int, float]] = []
        self.first_token: float | None = None
        # The gap before each token after the first, ms (None: not recording).
        self.gaps: array | None = array("f") if recording else None
        self.pauses: list[tuple[float, float]] = []  # (paused, resumed)
        self.last_run_end: float | None = None
        self.reused = 0
        self.evaluated = 0
        self.reevaluated = 0
        self.miss: CacheMiss | None = None
        # Speculative decoding (issue 13): Trace's drafted, draft_accepted, draft_steps,
        # draft_step_tokens, and why the reply drafted or not.
        self.drafts: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.drafting = ""
        self.drafter = ""  # the drafter kind that ran (issue 13)
        self.work = ""  # the kind of work drafting is measured for (protocol.Work)

    def run_started(self, now: float) -> None:
        if self.last_run_end is not None:
            self.pauses.append((self.last_run_end, now))

    def run_ended(
        self, t_start: float, t_prefill_end: float, t_first: float | None, t_end: float
    ) -> None:
        """Split one run into prefill and decode (inference/trace.py's definitions)."""
        if self.first_token is None:
            if t_first is None:  # no token yet: the whole run read the prompt
                self.prefill_s += t_end - t_start
            else:
                self.first_token = t_first
                self.prefill_s += t_first - t_start
                self.decode_s += t_end - t_first
        else:  # a resume after the first token: re-reading, then decoding on
            self.prefill_s += t_prefill_end - t_start
            self.decode_s += t_end - t_prefill_end
        self.last_run_end = t_end

    def build(
        self,
        end: float,
        perf: LlamaPerf | None,
        meanwhile: tuple[RanMeanwhile, ...],
        load_s: float,
    ) -> Trace:
        origin = self.received

        def ms(seconds: float) -> float:
            return seconds * 1000.0

        return Trace(
            started_at_ms=ms(self.started - origin),
            load_ms=ms(load_s),
            template_ms=ms(self.template_s),
            tokenize_ms=ms(self.tokenize_s),
            prefill_ms=ms(self.prefill_s),
            prefill_batches=tuple(self.batches),
            first_token_at_ms=-1.0 if self.first_token is None else ms(self.first_token - origin),
            decode_ms=ms(self.decode_s),
            token_gaps=pack_token_ms(self.gaps) if self.gaps is not None else b"",
            paused_ms=ms(sum(resumed - paused for paused, resumed in self.pauses)),
            end_at_ms=ms(end - origin),
            tokens_reused=self.reused,
            tokens_evaluated=self.evaluated,
            tokens_reevaluated=self.reevaluated,
            cache_miss=self.miss,
            ran_meanwhile=meanwhile,
            llama_prefill_ms=perf.t_p_eval_ms if perf else 0.0,
            llama_prefill_tokens=perf.n_p_eval if perf else 0,
            llama_decode_ms=perf.t_eval_ms if perf else 0.0,
            llama_decode_tokens=perf.n_eval if perf else 0,
            origin_s=origin,
            drafted=self.drafts[0],
            draft_accepted=self.drafts[1],
            draft_steps=self.drafts[2],
            draft_step_tokens=self.drafts[3],
            drafting=self.drafting,
            drafter=self.drafter,
            work=self.work,
        )


class WorkHistory:
    """When each request arrived (reader thread) and what the main thread worked on when
    (main thread), so a trace can say what its request waited behind."""

    def __init__(self, keep: int = 512) -> None:
        self._lock = threading.Lock()
        self._received: dict[int, float] = {}
        # (request id, kind, priority, began, ended), oldest first.
        self._ran: deque[tuple[int, str, int, float, float]] = deque(maxlen=keep)

    def received(self, request_id: int) -> None:
        """Reader thread: the request is off the pipe."""
        now = time.perf_counter()
        with self._lock:
            self._received[request_id] = now

    def take_receipt(self, request_id: int, default: float) -> float:
        with self._lock:
            return self._received.pop(request_id, default)

    def ran(self, request_id: int, kind: str, priority: int, began: float, ended: float) -> None:
        self._ran.append((request_id, kind, priority, began, ended))

    def meanwhile(
        self, windows: Sequence[tuple[float, float]], own_id: int
    ) -> tuple[RanMeanwhile, ...]:
        """Other requests' work inside `windows`, one entry per request in order of first
        overlap, with the seconds of the windows each took (as ms)."""
        spent: dict[int, list] = {}
        for request_id, kind, priority, began, ended in self._ran:
            if request_id == own_id:
                continue
            for start, end in windows:
                overlap = min(end, ended) - max(start, began)
                if overlap > 0:
                    entry = spent.setdefault(request_id, [kind, priority, 0.0])
                    entry[2] += overlap
        return tuple(RanMeanwhile(i, k, p, s * 1000.0) for i, (k, p, s) in spent.items())

    def loading(self, window: tuple[float, float]) -> float:
        """Seconds of `window` the engine spent loading models."""
        start, end = window
        return sum(
            max(0.0, min(end, ended) - max(start, began))
            for _, kind, _, began, ended in self._ran
            if kind == "load"
        )


def finish_trace(
    timeline: TraceRecorder, history: WorkHistory, request_id: int, perf: LlamaPerf | None
) -> Trace | None:
    """The generation's Trace, ending now (None when recording is off)."""
    end = time.perf_counter()
    if not timeline.recording:
        return None
    waited = (timeline.received, timeline.started)
    meanwhile = history.meanwhile([waited, *timeline.pauses], request_id)
    return timeline.build(end, perf, meanwhile, history.loading(waited))
