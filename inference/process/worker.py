"""The engine process: hosts llama_cpp.Llama and serves requests from one pipe.

Threads: a reader thread receives requests (so a cancel arrives while a reply is being
generated) and queues them by priority; the main thread runs one request at a time and is
the only one that sends events. Never imports Qt or touches the database.

Chat goes first, also against work already running: between two prefill batches or two
tokens of a background generation the main thread looks at the head of the queue, and when
an interactive request waits there the generation pauses (a Preempted event), goes back in
the queue in its old place, and resumes after the interactive work, continuing its stream
(inference/process/generation.py). A cancel takes effect at the same points.
Loads do not pause anything: a reply cannot continue on another model.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from inference.gguf import GGUFInfo, ModelFileError, inspect_gguf
from inference.process import llama_adapter as adapter
from inference.process.context_fit import OverflowPolicy, fit_messages, reply_reserve
from inference.process.generation import (
    CANCELLED,
    PREEMPTED,
    Generation,
    GenerationRequest,
    Outcome,
)
from inference.process.prompt_tokens import PromptBuilder, ReplyTokenMemory, TokenVocabulary
from inference.process.request_log import RequestLog
from inference.process.request_queue import RequestQueue
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Done,
    EngineSettings,
    Error,
    ErrorKind,
    GenerateRequest,
    GenerationStats,
    Loaded,
    LoadProgress,
    LoadRequest,
    ModelInfo,
    Preempted,
    Priority,
    Request,
    RequestLogReport,
    RequestLogRequest,
    RequestRecord,
    ShutdownRequest,
    Tokenized,
    TokenizeRequest,
)
from inference.templates import ChatFormat, PromptFormatError, format_for_override

# What a paused background generation makes way for: quick requests and other replies.
# Not loads: the paused reply could not continue on another model.
_PREEMPTING = (GenerateRequest, CompletionRequest, TokenizeRequest, RequestLogRequest)


@dataclass
class _LoadedModel:
    llm: Llama
    info: ModelInfo
    fmt: ChatFormat
    builder: PromptBuilder
    piece: adapter.PieceReader


class Worker:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: RequestQueue[Request | Generation | None] = RequestQueue()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self._model: _LoadedModel | None = None
        self._replies = ReplyTokenMemory()
        self._log = RequestLog.from_environment()
        self._paused: dict[int, Generation] = {}  # main thread only
        self._arrival = 0  # queue place of the request being handled
        self._failure: Error | None = None  # the last error sent

    # ---- plumbing ---------------------------------------------------------------------

    def serve(self) -> None:
        reader = threading.Thread(target=self._read_requests, name="engine-reader", daemon=True)
        reader.start()
        while True:
            _, self._arrival, item = self._queue.get()
            if item is None or isinstance(item, ShutdownRequest):
                break
            paused = isinstance(item, Generation)
            request_id = item.request.id if isinstance(item, Generation) else item.id
            if not paused and self._take_cancel(request_id):
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
        self._unload()

    def _read_requests(self) -> None:
        while True:
            try:
                request = self._conn.recv()
            except (EOFError, OSError):
                # The GUI went away: stop, whatever we were doing.
                with self._lock:
                    self._cancelled.add(-1)
                self._queue.put(-1, None)
                return
            if isinstance(request, CancelRequest):
                with self._lock:
                    self._cancelled.add(request.target)
                continue
            priority = getattr(request, "priority", Priority.INTERACTIVE)
            if isinstance(request, ShutdownRequest):
                priority = -1
            self._queue.put(int(priority), request)
            if isinstance(request, ShutdownRequest):
                return

    def _take_cancel(self, request_id: int) -> bool:
        with self._lock:
            if request_id in self._cancelled or -1 in self._cancelled:
                self._cancelled.discard(request_id)
                return True
            return False

    def _is_cancelled(self, request_id: int) -> bool:
        with self._lock:
            return request_id in self._cancelled or -1 in self._cancelled

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
        # Generations log themselves when they end; these are the rest worth a record.
        failure = self._failure if self._failure and self._failure.id == request.id else None
        if kind == "load" or (kind and failure is not None):
            stop = f"error:{failure.kind}" if failure else "loaded" if kind == "load" else kind
            self._log_plain(request, kind, stop, started)

    def _log_plain(self, request: Request, kind: str, stop_reason: str, started: float) -> None:
        model = self._model.info.name if self._model is not None else ""
        self._log.add(
            RequestRecord(
                id=request.id,
                kind=kind,
                priority=int(getattr(request, "priority", Priority.INTERACTIVE)),
                model=model,
                prompt_tokens=0,
                prompt_tokens_evaluated=0,
                completion_tokens=0,
                stop_reason=stop_reason,
                preemptions=0,
                total_ms=(time.perf_counter() - started) * 1000,
            )
        )

    # ---- model lifecycle --------------------------------------------------------------

    def _load(self, request: LoadRequest) -> None:
        settings = request.settings
        self._unload()
        self._send(LoadProgress(request.id, 0.0, "Checking the model file…"))
        try:
            gguf = inspect_gguf(Path(settings.model_path))
        except ModelFileError as exc:
            self._send(Error(request.id, ErrorKind.MODEL_FILE, str(exc)))
            return
        last = [-1.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.02 or fraction >= 1.0:
                last[0] = fraction
                self._send(LoadProgress(request.id, fraction, "Loading the model…"))

        started = time.perf_counter()
        try:
            llm, report = adapter.load_llama_measured(settings, progress)
        except (ValueError, RuntimeError, OSError) as exc:
            self._send(Error(request.id, ErrorKind.MODEL_FILE, _load_failure_message(gguf, exc)))
            return
        load_ms = (time.perf_counter() - started) * 1000
        tokens = adapter.model_tokens(llm, gguf.metadata)
        try:
            fmt = format_for_override(
                settings.chat_format, gguf.architecture, gguf.chat_template, tokens
            )
        except PromptFormatError as exc:
            llm.close()
            self._send(Error(request.id, ErrorKind.MODEL_FILE, str(exc)))
            return
        info = _model_info(settings, gguf, llm, fmt, load_ms, report)
        vocab = TokenVocabulary(
            bos_id=llm.token_bos() if llm.token_bos() >= 0 else None,
            bos_text=tokens.bos,
            eos_text=tokens.eos,
            add_bos=adapter.adds_bos(llm),
        )

        def tokenize(text: str, special: bool) -> list[int]:
            return llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

        self._replies = ReplyTokenMemory()
        builder = PromptBuilder(fmt, vocab, tokenize, self._replies)
        self._model = _LoadedModel(llm, info, fmt, builder, adapter.PieceReader(llm))
        self._send(Loaded(request.id, info))

    def _unload(self) -> None:
        if self._model is not None:
            self._model.llm.close()
            self._model = None

    def _require_model(self, request_id: int) -> _LoadedModel | None:
        if self._model is None:
            self._send(Error(request_id, ErrorKind.NOT_LOADED, "No model is loaded."))
        return self._model

    # ---- requests ---------------------------------------------------------------------

    def _count_tokens(self, request: TokenizeRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return
        if request.texts:
            counts = tuple(
                len(model.llm.tokenize(t.encode("utf-8"), add_bos=False, special=request.special))
                for t in request.texts
            )
            self._send(Tokenized(request.id, sum(counts), counts))
            return
        if request.messages:
            try:
                ids = model.builder.build(request.messages)
            except PromptFormatError as exc:
                self._send(Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))
                return
        else:
            ids = model.llm.tokenize(
                request.text.encode("utf-8"), add_bos=False, special=request.special
            )
        self._send(Tokenized(request.id, len(ids)))

    def _generate_chat(self, request: GenerateRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return
        if not request.messages or request.messages[-1].role != "user":
            self._send(
                Error(request.id, ErrorKind.BAD_REQUEST, "The last message must be the user's.")
            )
            return
        fitted = self._fit_to_context(model, request)
        if fitted is None:
            return
        messages, prompt, dropped = fitted
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
        )
        self._start(model, spec, remember)

    def _fit_to_context(
        self, model: _LoadedModel, request: GenerateRequest
    ) -> tuple[Sequence[ChatMessage], list[int], tuple[int, ...]] | None:
        """The messages to send, their prompt ids and the indices left out, by the request's
        overflow policy; None after sending the error that explains why not."""
        messages: Sequence[ChatMessage] = request.messages
        try:
            prompt = model.builder.build(messages)
            policy = OverflowPolicy(request.overflow)
        except (PromptFormatError, ValueError) as exc:
            self._send(Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))
            return None
        n_ctx = model.llm.n_ctx()
        limit = n_ctx - reply_reserve(n_ctx, request.max_tokens)
        if len(prompt) <= limit or policy is OverflowPolicy.FAIL:
            return messages, prompt, ()
        if policy is OverflowPolicy.ASK:
            alone = sum(m.role != "system" for m in messages) == 1
            what = "This message is too long for" if alone else "This conversation no longer fits"
            advice = " Shorten it or choose a larger context size." if alone else ""
            self._send(
                Error(
                    request.id,
                    ErrorKind.PROMPT_TOO_LONG,
                    f"{what} the model's context window ({len(prompt)} tokens; {limit} leave "
                    f"room for an answer).{advice}",
                )
            )
            return None
        try:
            kept, dropped = fit_messages(
                messages, lambda some: len(model.builder.build(some)), limit, policy
            )
            return kept, model.builder.build(kept), dropped
        except PromptFormatError as exc:
            self._send(Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))
            return None

    def _generate_completion(self, request: CompletionRequest) -> None:
        model = self._require_model(request.id)
        if model is None:
            return
        prompt = model.llm.tokenize(request.prompt.encode("utf-8"), add_bos=True, special=True)
        spec = GenerationRequest(
            request.id,
            "completion",
            int(request.priority),
            prompt,
            request.max_tokens,
            request.sampling,
            request.stop,
            ignore_eos=request.ignore_eos,
        )
        self._start(model, spec)

    # ---- generations, preempted and resumed ---------------------------------------------

    def _start(
        self,
        model: _LoadedModel,
        spec: GenerationRequest,
        then: Callable[[Generation], None] | None = None,
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
        generation = Generation(spec, model, then)
        generation.arrival = self._arrival
        self._drive(model, generation)

    def _drive(self, model: _LoadedModel, generation: Generation) -> None:
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
        if self._is_cancelled(generation.request.id):
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
        with self._lock:
            ids = [i for i in self._paused if i in self._cancelled or -1 in self._cancelled]
        for request_id in ids:
            generation = self._paused[request_id]
            if self._queue.remove(generation):
                del self._paused[request_id]
                generation.close("cancelled", self._send)
                self._finish(generation)

    def _resume(self, generation: Generation) -> None:
        request = generation.request
        self._paused.pop(request.id, None)
        if self._take_cancel(request.id):
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
        with self._lock:
            self._cancelled.discard(request.id)
        model = generation.model
        assert isinstance(model, _LoadedModel)
        stats = generation.stats(
            model.info.name, model.fmt.name, model.llm.n_ctx(), model.info.n_gpu_layers
        )
        self._send(Done(request.id, generation.text, stats, generation.perf))
        self._log_generation(generation, stats)
        if generation.then is not None and model is self._model:
            generation.then(generation)

    def _log_generation(self, generation: Generation, stats: GenerationStats | None = None) -> None:
        request = generation.request
        model = generation.model
        assert isinstance(model, _LoadedModel)
        prompt = reply = None
        if self._log.keeps_text:
            # Exactly what the model saw, template and all.
            prompt = model.llm.detokenize(request.prompt, special=True).decode("utf-8", "replace")
            reply = generation.text
        self._log.add(
            RequestRecord(
                id=request.id,
                kind=request.kind,
                priority=request.priority,
                model=model.info.name,
                prompt_tokens=len(request.prompt),
                prompt_tokens_evaluated=stats.prompt_tokens_evaluated if stats else 0,
                completion_tokens=len(generation.ids),
                stop_reason=generation.stop_reason,
                preemptions=generation.preemptions,
                total_ms=stats.total_ms if stats else 0.0,
                prompt=prompt,
                reply=reply,
            )
        )

    def _warm_next_turn(self, messages: tuple[ChatMessage, ...]) -> None:
        """Right after a reply, evaluate the template text that closes it and opens the next
        user turn (a handful of tokens), so the next turn pays only for the user's words.
        The cost is a few milliseconds, spent while the user reads."""
        model = self._model
        if model is None:
            return
        try:
            prefix = model.builder.next_turn_prefix(messages)
        except PromptFormatError:
            return
        llm = model.llm
        cached = adapter.cached_tokens(llm)
        common = Llama.longest_token_prefix(cached, prefix)
        # Only extend what is cached; never disturb it, and keep room in the context.
        if common == len(cached) and len(cached) < len(prefix) < llm.n_ctx() - 1:
            llm.eval(prefix[len(cached) :])


def _model_info(
    settings: EngineSettings,
    gguf: GGUFInfo,
    llm: Llama,
    fmt: ChatFormat,
    load_ms: float,
    report: adapter.LoadReport,
) -> ModelInfo:
    layers = adapter.n_layers(llm)
    requested = settings.n_gpu_layers
    if not adapter.gpu_offload_supported():
        offloaded = 0
    elif report.offloaded_layers is not None:
        offloaded = report.offloaded_layers  # what llama.cpp did, not what was asked
    else:  # a GPU build that logged no count (format changed): what was asked, capped
        offloaded = layers + 1 if requested < 0 else min(requested, layers + 1)
    n_threads, n_threads_batch = adapter.thread_counts(llm)
    return ModelInfo(
        path=settings.model_path,
        name=gguf.name or Path(settings.model_path).stem,
        architecture=gguf.architecture,
        quantization=gguf.quantization,
        n_ctx=llm.n_ctx(),
        n_ctx_train=adapter.n_ctx_train(llm),
        n_gpu_layers=offloaded,
        n_layers=layers,
        gpu_offload_supported=adapter.gpu_offload_supported(),
        backend=adapter.backend_name(offloaded),
        chat_format=fmt.name,
        chat_format_label=fmt.label,
        chat_format_stops=fmt.stop,
        load_ms=load_ms,
        llama_cpp_version=adapter.library_version(),
        memory=report.memory,
        amx_off=report.amx_off,
        n_threads=n_threads,
        n_threads_batch=n_threads_batch,
        n_threads_user_set=bool(settings.n_threads and settings.n_threads > 0),
        n_threads_batch_user_set=bool(settings.n_threads_batch and settings.n_threads_batch > 0),
    )


def _load_failure_message(gguf: GGUFInfo, exc: Exception) -> str:
    if str(exc).startswith("unknown model architecture"):
        return (
            f"This llama.cpp (llama-cpp-python {adapter.library_version()}) does not know the "
            f"model architecture '{gguf.architecture}', so it cannot run this file. The file "
            "itself looks intact: models of a newer architecture need a newer "
            "llama-cpp-python than the one installed."
        )
    size_mb = os.path.getsize(gguf.path) / 1e6 if os.path.exists(gguf.path) else 0
    return (
        f"llama.cpp could not load this model ({gguf.architecture or 'unknown architecture'}, "
        f"{size_mb:.0f} MB): {exc}. The file may be damaged, or this version of llama.cpp "
        f"may not support the model."
    )


def serve(conn: Connection) -> None:
    adapter.route_native_logs()
    Worker(conn).serve()
