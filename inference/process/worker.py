"""The engine process: hosts llama_cpp.Llama and serves requests from one pipe.

Threads: a reader thread receives requests (so a cancel arrives while a reply is being
generated) and queues them by priority (request_inbox.py); the main thread runs one request
at a time and is the only one that sends events. Never imports Qt or touches the database.

Chat goes first, also against work already running: between two prefill batches or two
tokens of a background generation the main thread looks at the head of the queue, and when
an interactive request waits there the generation pauses (a Preempted event), goes back in
the queue in its old place, and resumes after the interactive work, continuing its stream
(inference/process/generation.py). A cancel takes effect at the same points.
Loads do not pause anything: a reply cannot continue on another model.

Loading a model is in model_load.py, the prompt side of requests (token counts, fitting a
chat to the context) in prompt_requests.py, the request-log records in request_records.py.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from inference.process.bench_run import STOP_CANCELLED, STOP_PREEMPTED, run_bench
from inference.process.cache_ledger import CacheLedger, Evaluation
from inference.process.draft_model import drafter_for
from inference.process.draft_switch import DraftSwitchboard
from inference.process.generation import (
    CANCELLED,
    PREEMPTED,
    Generation,
    GenerationRequest,
    Outcome,
)
from inference.process.kv_state import KVStateKeeper
from inference.process.kv_state_budget import apply_state_budget
from inference.process.kv_state_writer import StateWriter
from inference.process.llama_logs import route_native_logs
from inference.process.model_load import LoadedModel, load_model
from inference.process.prompt_requests import count_tokens, fit_to_context, warm_next_turn
from inference.process.prompt_tokens import ReplyTokenMemory
from inference.process.request_inbox import RequestInbox
from inference.process.request_log import RequestLog
from inference.process.request_records import generation_record, item_kind, plain_record
from inference.process.trace_recorder import WorkHistory, finish_trace
from inference.process.type_ahead import TypedAhead
from inference.process.warm import warm_conversation
from inference.protocol import (
    BenchRequest,
    ChatMessage,
    CompletionRequest,
    Done,
    Error,
    ErrorKind,
    GenerateRequest,
    GenerationStats,
    Loaded,
    LoadRequest,
    Preempted,
    Priority,
    Request,
    RequestLogReport,
    RequestLogRequest,
    SetStateBudget,
    ShutdownRequest,
    TokenizeRequest,
    Unloaded,
    UnloadRequest,
    WarmRequest,
    Work,
)

# What a paused background generation makes way for: quick requests and other replies.
# Not loads: the paused reply could not continue on another model.
_PREEMPTING = (GenerateRequest, CompletionRequest, TokenizeRequest, RequestLogRequest)


class Worker:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._history = WorkHistory()
        self._inbox: RequestInbox[Request | Generation] = RequestInbox(conn, self._history.received)
        self._queue = self._inbox.queue
        self._cancels = self._inbox.cancels
        self._model: LoadedModel | None = None
        self._replies = ReplyTokenMemory()
        self._log = RequestLog.from_environment()
        self._paused: dict[int, Generation] = {}  # main thread only
        self._arrival = 0  # queue place of the request being handled
        self._failure: Error | None = None  # the last error sent
        # Timelines (issue 12): arrivals and work done, what evaluated the cache last, and
        # the receipt and start of the request being handled (perf_counter seconds).
        self._ledger = CacheLedger()
        self._received_at = 0.0
        self._began = 0.0
        # Kept KV states (issue 13): the loaded model's keeper, and one writer thread for
        # the process's lifetime (a model switch never waits for a write).
        self._kept: KVStateKeeper | None = None
        self._state_writer = StateWriter()
        # Whether drafting pays, measured per model and kind of work (issue 13).
        self._draft_switches = DraftSwitchboard()
        # What warms read ahead of the user's typing; the next generation's (type_ahead.py).
        self._typed: TypedAhead | None = None

    # ---- plumbing ---------------------------------------------------------------------

    def serve(self) -> None:
        self._inbox.start()
        while True:
            _, self._arrival, item = self._queue.get()
            if item is None or isinstance(item, ShutdownRequest):
                break
            began = self._began = time.perf_counter()
            paused = isinstance(item, Generation)
            request_id = item.request.id if isinstance(item, Generation) else item.id
            if not paused:
                self._received_at = self._history.take_receipt(request_id, began)
            if not paused and self._cancels.take(request_id):
                # Every request gets an answer, or a blocking caller would wait forever.
                self._send(Error(request_id, ErrorKind.CANCELLED, "Cancelled before it started."))
                continue
            try:
                if isinstance(item, Generation):
                    self._resume(item)
                else:
                    self._handle(item)
            except Exception as exc:  # the engine must answer every request
                self._send(
                    Error(request_id, ErrorKind.INTERNAL, f"{exc}\n{traceback.format_exc()}")
                )
            kind, priority = item_kind(item)
            self._history.ran(request_id, kind, priority, began, time.perf_counter())
            if self._queue.head() is None:
                self._save_kept_state()  # idle: copy the last reply's state out
        self._unload()
        self._state_writer.close()  # on disk before exiting: the next process resumes

    def _send(self, event: Any) -> None:
        if isinstance(event, Error):
            self._failure = event
        try:
            self._conn.send(event)
        except (BrokenPipeError, OSError):
            pass

    def _handle(self, request: Request) -> None:
        self._failure = None
        started = time.perf_counter()
        kind = ""
        if isinstance(request, LoadRequest):
            kind = "load"
            self._load(request)
        elif isinstance(request, GenerateRequest):
            kind = "chat"
            self._generate_chat(request)
        elif isinstance(request, CompletionRequest):
            kind = "completion"
            self._generate_completion(request)
        elif isinstance(request, TokenizeRequest):
            self._count_tokens(request)
        elif isinstance(request, RequestLogRequest):
            self._send(RequestLogReport(request.id, self._log.records()))
        elif isinstance(request, BenchRequest):
            kind = "bench"
            self._typed = None  # a run empties the cache
            self._bench(request)
        elif isinstance(request, UnloadRequest):
            self._unload()
            self._send(Unloaded(request.id))
        elif isinstance(request, SetStateBudget):
            self._send(apply_state_budget(self._kept, request))
        elif isinstance(request, WarmRequest):
            newer = self._queue.holds(lambda item: isinstance(item, WarmRequest))
            warmed, self._typed = warm_conversation(
                self._model, self._kept, self._replies, request,
                busy=bool(self._paused), superseded=newer, ledger=self._ledger, typed=self._typed,
            )  # fmt: skip
            self._send(warmed)
        # Generations log themselves when they end; these are the rest worth a record.
        failure = self._failure if self._failure and self._failure.id == request.id else None
        if kind == "load" or (kind and failure is not None):
            stop = f"error:{failure.kind}" if failure else "loaded" if kind == "load" else kind
            self._log_plain(request, kind, stop, started)

    def _log_plain(self, request: Request, kind: str, stop_reason: str, started: float) -> None:
        model = self._model.info.name if self._model is not None else ""
        self._log.add(plain_record(request, kind, stop_reason, started, model))

    # ---- model lifecycle --------------------------------------------------------------

    def _load(self, request: LoadRequest) -> None:
        self._unload()
        replies = ReplyTokenMemory()
        model = load_model(request, self._send, replies)
        if model is None:
            return
        self._replies = replies
        self._model = model
        self._ledger.loaded(request.settings.model_path)
        self._kept = KVStateKeeper.for_model(
            request.kept_states,
            # A state's meaning depends on flash attention as llama.cpp resolved it (auto).
            replace(request.settings, flash_attn=model.info.flash_attn),
            model.llm.n_ctx(),
            model.fmt.name,
            self._state_writer,
        )
        speeds = request.kept_states.draft_speeds if request.kept_states else ""
        self._draft_switches.loaded(model.info.path, model.info.n_gpu_layers, speeds)
        self._send(Loaded(request.id, model.info))

    def _unload(self) -> None:
        self._typed = None
        self._save_kept_state()  # a model switch keeps the conversation's state too
        self._kept = None
        if self._model is not None:
            self._model.close()  # the draft model too (issue 13)
            self._model = None

    def _save_kept_state(self) -> None:
        self._draft_switches.save()  # drafting's speeds too, when a reply measured them
        if self._kept is not None and self._kept.pending and self._model is not None:
            self._kept.save_pending(self._model.llm)

    def _require_model(self, request_id: int) -> LoadedModel | None:
        if self._model is None:
            self._send(Error(request_id, ErrorKind.NOT_LOADED, "No model is loaded."))
        return self._model

    # ---- requests ---------------------------------------------------------------------

    def _count_tokens(self, request: TokenizeRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return
        count_tokens(model, request, self._send)

    def _generate_chat(self, request: GenerateRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return
        if not request.messages or request.messages[-1].role != "user":
            self._send(
                Error(request.id, ErrorKind.BAD_REQUEST, "The last message must be the user's.")
            )
            return
        model.builder.take_times()  # count this request's builds only
        if self._kept is not None and request.state_key:
            self._kept.prime(request.state_key, self._replies)  # its replies' sampled ids
        fitted = fit_to_context(model, request, self._send)
        if fitted is None:
            return
        messages, prompt, dropped = fitted
        prompt_times = model.builder.take_times()
        stops = tuple(dict.fromkeys((*model.fmt.stop, *request.stop)))

        # Background work (summaries, translations, titles) is never continued as a
        # conversation: warming its next turn would only delay the next request.
        continues = request.priority == Priority.INTERACTIVE

        def remember(generation: Generation) -> None:
            if generation.stop_reason in ("eos", "length"):
                self._replies.remember(generation.text, generation.ids)
                if continues:
                    self._warm_next_turn((*messages, ChatMessage("assistant", generation.text)))

        spec = GenerationRequest(
            request.id,
            "chat",
            int(request.priority),
            prompt,
            request.max_tokens,
            request.sampling,
            stops,
            dropped=dropped,
            state_key=request.state_key,
            drafting=request.drafting,
            # Callers name their work (protocol.Work); an unnamed background chat is
            # measured apart from the interactive chat.
            work=request.work or (Work.CHAT if continues else Work.BACKGROUND),
        )
        evaluation = Evaluation(request.id, "chat", int(request.priority), tuple(messages), dropped)
        self._start(model, spec, remember, evaluation, prompt_times)

    def _generate_completion(self, request: CompletionRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return
        t_tokenize = time.perf_counter()
        prompt = model.llm.tokenize(request.prompt.encode("utf-8"), add_bos=True, special=True)
        prompt_times = (0.0, time.perf_counter() - t_tokenize)
        spec = GenerationRequest(
            request.id,
            "completion",
            int(request.priority),
            prompt,
            request.max_tokens,
            request.sampling,
            request.stop,
            ignore_eos=request.ignore_eos,
            state_key=request.state_key,
            drafting=request.drafting,
            work=request.work,
        )
        self._start(model, spec, prompt_times=prompt_times)

    def _bench(self, request: BenchRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return

        def interrupt() -> str | None:
            # Between two bench steps: a cancel ends it, a waiting chat turn goes first.
            if self._cancels.asked(request.id):
                return STOP_CANCELLED
            head = self._queue.head()
            if head is not None and head[0] < request.priority:
                return STOP_PREEMPTED
            return None

        if self._kept is not None:
            self._kept.forget_pending()  # a bench run empties the cache
        try:
            run_bench(model.llm, request, self._send, interrupt)
        finally:
            self._ledger.benchmarked(request.id, request.priority)
            self._cancels.forget(request.id)

    # ---- generations, preempted and resumed ---------------------------------------------

    def _start(
        self,
        model: LoadedModel,
        spec: GenerationRequest,
        then: Callable[[Generation], None] | None = None,
        evaluation: Evaluation | None = None,
        prompt_times: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        n_ctx = model.llm.n_ctx()
        if len(spec.prompt) >= n_ctx:
            self._send(
                Error(
                    spec.id,
                    ErrorKind.PROMPT_TOO_LONG,
                    # Worded for any caller (chat, documents, translation), not only a chat.
                    f"The prompt is too long for this model's context window "
                    f"({len(spec.prompt)} tokens; the limit is {n_ctx}). Choose a larger context "
                    f"size or send less text.",
                )
            )
            return
        if self._kept is not None:
            self._kept.before_use(model.llm, spec.state_key, spec.priority)
        drafting_by, drafter = drafter_for(model.draft)  # each drafter measured on its own
        switch = self._draft_switches.for_model(
            model.info.path, model.info.n_gpu_layers, drafting_by
        )
        generation = Generation(
            spec, model, then, self._ledger, evaluation, self._kept, switch=switch,
            drafter=drafter,
        )  # fmt: skip
        generation.arrival = self._arrival
        generation.typed, self._typed = self._typed, None
        timeline = generation.timeline
        timeline.received, timeline.started = self._received_at, self._began
        timeline.template_s, timeline.tokenize_s = prompt_times
        self._drive(model, generation)

    def _drive(self, model: LoadedModel, generation: Generation) -> None:
        request = generation.request
        outcome = generation.run(
            model.llm, model.piece, self._send, lambda: self._interrupt(generation)
        )
        if outcome is Outcome.PREEMPTED:
            head = self._queue.head()
            by = getattr(head[1], "id", -1) if head is not None else -1
            self._send(Preempted(request.id, by, len(generation.ids)))
            self._paused[request.id] = generation
            self._queue.put(request.priority, generation, generation.arrival)
            return
        self._finish(generation)

    def _interrupt(self, generation: Generation) -> str | None:
        """Asked between two prefill batches and two tokens: should the running generation
        stop or pause?"""
        if self._paused:
            self._end_cancelled_paused()
        if self._cancels.asked(generation.request.id):
            return CANCELLED
        head = self._queue.head()
        if head is None:
            return None
        priority, waiting = head
        if priority < generation.request.priority and isinstance(waiting, _PREEMPTING):
            return PREEMPTED
        return None

    def _end_cancelled_paused(self) -> None:
        """A cancel for a paused generation is answered now, not after the chat turn that
        paused it (a document's Cancel must work within a second)."""
        ids = self._cancels.among(self._paused)
        for request_id in ids:
            generation = self._paused[request_id]
            if self._queue.remove(generation):
                del self._paused[request_id]
                generation.close("cancelled", self._send)
                self._finish(generation)

    def _resume(self, generation: Generation) -> None:
        request = generation.request
        self._paused.pop(request.id, None)
        if self._cancels.take(request.id):
            generation.close("cancelled", self._send)
            self._finish(generation)
        elif generation.model is not self._model or self._model is None:
            generation.close("error:model_changed", self._send)
            self._log_generation(generation)
            self._send(
                Error(
                    request.id,
                    ErrorKind.MODEL_CHANGED,
                    "Another model was loaded while this request waited for a chat turn; "
                    "start it again to continue with the new model.",
                )
            )
        else:
            self._drive(self._model, generation)

    def _finish(self, generation: Generation) -> None:
        request = generation.request
        self._cancels.forget(request.id)
        model = generation.model
        assert isinstance(model, LoadedModel)
        stats = generation.stats(
            model.info.name, model.fmt.name, model.llm.n_ctx(), model.info.n_gpu_layers
        )
        self._ledger.ended(request.id, generation.text)
        trace = finish_trace(generation.timeline, self._history, request.id, generation.perf)
        trace = generation.restored.on_trace(trace)
        if generation.typed is not None:
            trace = generation.typed.on_trace(trace, generation.typed_reused)
        if self._kept is not None and model is self._model:
            whole = request.kind == "chat" and generation.stop_reason in ("eos", "length")
            reply = (generation.text, list(generation.ids)) if whole else None
            evaluated = stats.prompt_tokens_evaluated
            self._kept.finished(request.state_key, evaluated, stats.prefill_tps, reply)
        self._send(Done(request.id, generation.text, stats, generation.perf, trace))
        self._log_generation(generation, stats)
        if generation.then is not None and model is self._model:
            generation.then(generation)

    def _log_generation(self, generation: Generation, stats: GenerationStats | None = None) -> None:
        self._log.add(generation_record(generation, stats, self._log.keeps_text))

    def _warm_next_turn(self, messages: tuple[ChatMessage, ...]) -> None:
        if self._model is not None:
            warm_next_turn(self._model, messages)


def serve(conn: Connection) -> None:
    route_native_logs()
    Worker(conn).serve()
