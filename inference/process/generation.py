"""One generation's prefill and token loop, resumable between batches and between tokens
(engine process, main thread).

A background generation (a chunk summary, a translated segment) can be preempted by a chat
turn: the loop stops between two prefill batches or two tokens and keeps everything it has
(the sampled ids, the text assembler with any stop-string prefix it holds back, the
counters). `run` called again continues with prompt + sampled ids as the prompt: what the KV
cache still holds of it is reused (all of it when only a token count ran in between; after a
chat turn, whatever prefix the two share) and the rest is evaluated. Either way the text
already streamed stays valid, so the caller sees one uninterrupted stream and one Done.

The prompt is evaluated here, in n_batch-sized steps (`_prefill`), not inside llama.cpp's
one call: a document chunk's prefill takes seconds on a CPU, and a cancel or a chat turn
must not wait for all of it (inside a step too: prefill_watch.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process.cache_ledger import CacheLedger, Evaluation
from inference.process.draft_switch import DraftSwitch
from inference.process.drafting import PromptLookup
from inference.process.kv_memory import holds_prefix
from inference.process.kv_state import KVStateKeeper, Restored
from inference.process.prefill_watch import PrefillWatch
from inference.process.reply_drafting import ReplyDrafting
from inference.process.speculative import Drafter, Step
from inference.process.text_stream import TextAssembler
from inference.process.trace_recorder import TraceRecorder
from inference.process.type_ahead import TypedAhead
from inference.protocol import (
    Delta,
    GenerationStats,
    LlamaPerf,
    PrefillProgress,
    Sampling,
    Started,
)

PREEMPTED = "preempted"  # what `interrupt` returns to pause the loop
CANCELLED = "cancelled"


class Outcome(Enum):
    FINISHED = "finished"
    PREEMPTED = "preempted"


@dataclass(frozen=True)
class GenerationRequest:
    """What the loop needs of a GenerateRequest or CompletionRequest, prompt already built."""

    id: int
    kind: str  # "chat" or "completion"
    priority: int
    prompt: list[int]
    max_tokens: int
    sampling: Sampling
    stops: tuple[str, ...]
    ignore_eos: bool = False
    dropped: tuple[int, ...] = ()
    state_key: str = ""  # the KV state kept on disk for it (issue 13; "" none)
    drafting: str = "auto"  # speculative decoding: "auto", "on" or "off" (protocol.py)
    work: str = ""  # the kind of work drafting is measured for; "" is `kind`


class Generation:
    def __init__(
        self,
        request: GenerationRequest,
        model: object,
        then: Callable[[Generation], None] | None = None,
        ledger: CacheLedger | None = None,
        evaluation: Evaluation | None = None,
        kept: KVStateKeeper | None = None,
        switch: DraftSwitch | None = None,
        drafter: Callable[[Sequence[int]], Drafter] = PromptLookup,
    ) -> None:
        """`model`: the loaded model it belongs to (a resume on another one is refused);
        `then`: run once it has finished (the chat remembers its reply); `ledger`: told what
        this generation evaluates, and asked why the cache was missed (`evaluation` is the
        request as it compares it); `kept`: the model's kept KV states, asked before the
        first prefill to restore the request's state_key (issue 13); `switch`: the model's
        drafting decisions (None: draft only when the request forces it on); `drafter`: makes
        the drafter from the prompt."""
        self.request = request
        self.model = model
        self.then = then
        self.ledger = ledger
        self.evaluation = evaluation or Evaluation(request.id, request.kind, request.priority)
        self.timeline = TraceRecorder()
        self.ids: list[int] = []
        self.assembler = TextAssembler(request.stops)
        self.stop_reason = ""
        self.preemptions = 0
        self.arrival: int | None = None  # its place in the engine's queue, kept on a resume
        self._started = False
        self._evaluated = 0
        self._ttft_s: float | None = None
        self._prefill_s = 0.0
        self._decode_s = 0.0
        self._decode_tokens = 0
        self._work_s = 0.0
        self._perf: LlamaPerf | None = None
        self.kept = kept
        self.restored = Restored()
        # Read ahead while the user typed (set by the worker), and how much of it this
        # prompt reused (type_ahead.py).
        self.typed: TypedAhead | None = None
        self.typed_reused = 0
        self.drafting = ReplyDrafting(
            request.drafting, request.work or request.kind, request.prompt, request.sampling,
            switch, drafter, self.timeline,
        )  # fmt: skip

    @property
    def text(self) -> str:
        return self.assembler.text

    def run(
        self,
        llm: Llama,
        piece: Callable[[int], bytes],
        send: Callable[[Any], None],
        interrupt: Callable[[], str | None],
    ) -> Outcome:
        """Generate until the reply ends or `interrupt()` (asked after every prefill batch
        and every token) says PREEMPTED or CANCELLED. The first run announces the request
        with Started."""
        t_start = time.perf_counter()
        timeline = self.timeline
        timeline.run_started(t_start)
        request = self.request
        tokens = request.prompt + self.ids
        n_ctx = llm.n_ctx()
        budget = min(request.max_tokens, n_ctx - len(request.prompt))
        if not self._started and self.kept is not None and request.state_key:
            # A kept state replaces the live cache when it holds more of this prompt.
            self.restored = self.kept.restore(llm, request.state_key, tokens)
        cached = adapter.cached_tokens(llm)
        common = Llama.longest_token_prefix(cached, tokens)
        if 0 < common < len(tokens) - 1 and not holds_prefix(llm, common):
            common = 0  # prefill_batches starts over too: the cache misses the window
        if common == len(tokens):
            evaluated = 0 if adapter.full_prompt_is_cached(llm, tokens) else 1
        else:
            evaluated = len(tokens) - common
        if not self._started:
            self._started = True
            timeline.reused = len(tokens) - evaluated
            # Typed text read ahead that the message no longer starts with is not a miss:
            # what follows the turn's opening is new either way.
            typed = self.typed is not None and common >= self.typed.start
            if self.typed is not None:
                self.typed_reused = self.typed.serves(common)
            if self.ledger is not None and not self.restored.tokens and not typed:
                timeline.miss = self.ledger.explain(self.evaluation, cached, tokens, common)
            send(Started(request.id, len(request.prompt), n_ctx, request.dropped))
            if request.sampling.seed is not None:
                llm.set_seed(request.sampling.seed)
        if self.ledger is not None:
            self.ledger.evaluated(self.evaluation, tokens)
        adapter.reset_perf(llm)

        t_first: float | None = None
        t_last = t_start
        steps = 0  # tokens out of the sampler in this run, an end-of-turn token included
        gaps = timeline.gaps
        # After the reply's first token, a resumed run's first gap counts from its prefill.
        gap_from_prefill = timeline.first_token is not None
        outcome = Outcome.FINISHED
        self.stop_reason = "length"
        reason, in_cache = self._prefill(llm, tokens, common, send, interrupt)
        if reason is not None:
            # Stopped between two batches: only what was evaluated counts.
            self._count_evaluated(max(0, in_cache - common))
            return self._stopped_in_prefill(llm, reason, t_start, send)
        self._count_evaluated(evaluated)
        t_prefill_end = time.perf_counter()
        drafting = self.drafting
        # A draft model's catch-up with a long prompt stops between its batches (issue 13).
        source = drafting.steps(
            llm, tokens, self.ids, budget, lambda: interrupt() in (PREEMPTED, CANCELLED)
        )
        counts, times = drafting.counts, drafting.times
        try:
            for step in source:
                now = time.perf_counter()
                gap: float | None = None  # the step's time (see _take_tokens)
                if t_first is None:
                    t_first = now
                    if gap_from_prefill:
                        gap = now - t_prefill_end
                else:
                    gap = now - t_last
                t_last = now
                kept, ended = self._take_tokens(step, llm, piece, send, interrupt, budget)
                steps += kept
                if step.drafted:
                    counts.step_tokens += kept
                if gap is not None and kept:
                    times.add(step.drafting, kept, gap)
                    if gaps is not None:
                        share = gap * 1000.0 / kept
                        for _ in range(kept):
                            gaps.append(share)
                if ended is not None:
                    if ended is Outcome.PREEMPTED:
                        outcome = Outcome.PREEMPTED
                    break
        finally:
            source.close()
        drafting.run_ended()

        t_end = time.perf_counter()
        timeline.run_ended(t_start, t_prefill_end, t_first, t_end)
        first = t_first if t_first is not None else t_end
        self._add_times(llm, t_start, first, t_end, produced=t_first is not None)
        self._decode_s += t_last - first
        # Every token after the first took a decode step, an end-of-turn token included:
        # the same count as the trace's per-token times (app/chat/timing.py, decode speed).
        self._decode_tokens += max(0, steps - 1)
        if outcome is Outcome.PREEMPTED:
            self.preemptions += 1
            return outcome
        tail = self.assembler.finish()
        if tail:
            send(Delta(request.id, tail, 0))
        drafting.finished()
        return outcome

    def _take_tokens(
        self,
        step: Step,
        llm: Llama,
        piece: Callable[[int], bytes],
        send: Callable[[Any], None],
        interrupt: Callable[[], str | None],
        budget: int,
    ) -> tuple[int, Outcome | None]:
        """Hand out one step's tokens as plain decoding hands out each of its tokens: end of
        generation, stop strings and max tokens checked per token, `interrupt()` asked after
        the step's last one (between two llama_decode calls, as plain decoding asks). Returns
        (tokens kept, an end token included; FINISHED or PREEMPTED when the reply stops).

        A step's time (from the previous step's tokens received to this step's received: its
        llama_decode, the sampling, and the previous step's handing out) is shared evenly by
        the tokens it kept, so the trace keeps one gap per token and their sum."""
        request = self.request
        kept = 0
        last = len(step.tokens) - 1
        for i, token in enumerate(step.tokens):
            kept += 1
            if not request.ignore_eos and adapter.is_end_of_generation(llm, token):
                self.stop_reason = "eos"
                return kept, Outcome.FINISHED
            self.ids.append(token)
            delta = self.assembler.feed(piece(token))
            if delta:
                send(Delta(request.id, delta, 1))
            if self.assembler.stopped:
                self.stop_reason = "stop"
                return kept, Outcome.FINISHED
            # A full reply ends here, so a preempted one always has tokens left to make.
            if len(self.ids) >= budget:
                self.stop_reason = "length" if budget == request.max_tokens else "context_full"
                return kept, Outcome.FINISHED
            if i == last:
                reason = interrupt()
                if reason == CANCELLED:
                    self.stop_reason = "cancelled"
                    return kept, Outcome.FINISHED
                if reason == PREEMPTED:
                    return kept, Outcome.PREEMPTED
        return kept, None

    def _prefill(
        self,
        llm: Llama,
        tokens: list[int],
        common: int,
        send: Callable[[Any], None],
        interrupt: Callable[[], str | None],
    ) -> tuple[str | None, int]:
        """The one prefill loop: evaluate the prompt in steps of n_batch tokens; inside a step
        report PrefillProgress at least twice a second and stop when `interrupt()` says so
        (prefill_watch.py: llama.cpp's abort callback), and after each step report again and
        ask `interrupt()`. Returns (PREEMPTED or CANCELLED when asked to stop, else None;
        tokens in the cache). Each step's (tokens, ms) goes to the trace: the llama_decode
        call, nothing else; a step stopped inside counts 0 tokens (llama.cpp dropped them)."""
        total = len(tokens)
        in_cache = common
        before = common
        batches = self.timeline.batches
        request_id = self.request.id
        wanted: list[str] = []

        def stop() -> bool:
            reason = interrupt()
            if reason in (PREEMPTED, CANCELLED):
                wanted.append(reason)
                return True
            return False

        watch = PrefillWatch(llm, lambda n: send(PrefillProgress(request_id, n, total)), stop)
        t_batch = time.perf_counter()
        with closing(adapter.prefill_batches(llm, tokens, watch)) as steps:
            for in_cache in steps:
                batches.append((max(0, in_cache - before), (time.perf_counter() - t_batch) * 1000))
                before = in_cache
                send(PrefillProgress(request_id, in_cache, total))
                reason = interrupt()
                if reason in (PREEMPTED, CANCELLED):
                    return reason, in_cache
                t_batch = time.perf_counter()
        if wanted:
            batches.append((0, (time.perf_counter() - t_batch) * 1000))
            return wanted[0], in_cache
        return None, in_cache

    def _count_evaluated(self, n: int) -> None:
        self._evaluated += n
        timeline = self.timeline
        if timeline.first_token is None:
            timeline.evaluated += n
        else:
            timeline.reevaluated += n

    def _stopped_in_prefill(
        self, llm: Llama, reason: str, t_start: float, send: Callable[[Any], None]
    ) -> Outcome:
        """A run that stopped before its first token: paused (it resumes from the prefix it
        left in the cache) or cancelled (it ends with what it had streamed before)."""
        t_end = time.perf_counter()
        self.timeline.run_ended(t_start, t_end, None, t_end)
        self._add_times(llm, t_start, t_end, t_end, produced=False)
        if reason == PREEMPTED:
            self.preemptions += 1
            return Outcome.PREEMPTED
        self.stop_reason = "cancelled"
        tail = self.assembler.finish()
        if tail:
            send(Delta(self.request.id, tail, 0))
        return Outcome.FINISHED

    def _add_times(
        self, llm: Llama, t_start: float, first: float, t_end: float, *, produced: bool
    ) -> None:
        """Add one run's llama.cpp counters and its prefill time (start to first token, or
        to where it stopped); time to first token is all prefill work until a token came,
        the time the request spent paused not counted."""
        perf = adapter.read_perf(llm)
        self._perf = perf if self._perf is None else _add(self._perf, perf)
        self._prefill_s += first - t_start
        if produced and self._ttft_s is None:
            self._ttft_s = self._prefill_s
        self._work_s += t_end - t_start

    def close(self, stop_reason: str, send: Callable[[Any], None]) -> None:
        """End a paused generation without running it again (cancelled while it waited)."""
        self.stop_reason = stop_reason
        tail = self.assembler.finish()
        if tail:
            send(Delta(self.request.id, tail, 0))

    @property
    def perf(self) -> LlamaPerf | None:
        return self._perf

    def stats(self, model: str, chat_format: str, n_ctx: int, n_gpu_layers: int) -> GenerationStats:
        completion = len(self.ids)
        prefill_s = self._prefill_s
        return GenerationStats(
            model=model,
            chat_format=chat_format,
            n_ctx=n_ctx,
            n_gpu_layers=n_gpu_layers,
            prompt_tokens=len(self.request.prompt),
            prompt_tokens_evaluated=self._evaluated,
            completion_tokens=completion,
            ttft_ms=(self._ttft_s or 0.0) * 1000,
            prefill_tps=self._evaluated / prefill_s if prefill_s > 0 and self._evaluated else 0.0,
            decode_tps=self._decode_tokens / self._decode_s
            if self._decode_tokens and self._decode_s > 0
            else 0.0,
            total_ms=self._work_s * 1000,
            stop_reason=self.stop_reason,
        )


def _add(a: LlamaPerf, b: LlamaPerf) -> LlamaPerf:
    return LlamaPerf(
        t_p_eval_ms=a.t_p_eval_ms + b.t_p_eval_ms,
        n_p_eval=a.n_p_eval + b.n_p_eval,
        t_eval_ms=a.t_eval_ms + b.t_eval_ms,
        n_eval=a.n_eval + b.n_eval,
    )
