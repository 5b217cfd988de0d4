"""The engine process: hosts llama_cpp.Llama and serves requests from one pipe.

Threads: a reader thread receives requests (so a cancel arrives while a reply is being
generated) and queues them by priority; the main thread runs one request at a time and is
the only one that sends events. Never imports Qt or touches the database.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from inference import llama_adapter as adapter
from inference.context_fit import OverflowPolicy, fit_messages, reply_reserve
from inference.gguf_validate import GGUFInfo, ModelFileError, inspect_gguf
from inference.prompt_formats import ChatFormat, PromptFormatError, format_for_override
from inference.prompt_tokens import PromptBuilder, ReplyTokenMemory, TokenVocabulary
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Delta,
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
    Priority,
    Request,
    Sampling,
    ShutdownRequest,
    Started,
    Tokenized,
    TokenizeRequest,
    UnloadRequest,
)
from inference.text_stream import TextAssembler


@dataclass
class _LoadedModel:
    llm: Llama
    info: ModelInfo
    fmt: ChatFormat
    builder: PromptBuilder
    piece: adapter.PieceReader


class _Stop(Exception):
    pass


class Worker:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.PriorityQueue[tuple[int, int, Request | None]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self._model: _LoadedModel | None = None
        self._replies = ReplyTokenMemory()

    # ---- plumbing ---------------------------------------------------------------------

    def serve(self) -> None:
        reader = threading.Thread(target=self._read_requests, name="engine-reader", daemon=True)
        reader.start()
        while True:
            try:
                _, _, request = self._queue.get()
            except queue.Empty:
                continue
            if request is None or isinstance(request, ShutdownRequest):
                break
            if self._take_cancel(request.id):
                # Every request gets an answer, or a blocking caller would wait forever.
                self._send(Error(request.id, ErrorKind.CANCELLED, "Cancelled before it started."))
                continue
            try:
                self._handle(request)
            except Exception as exc:  # the engine must answer every request
                self._send(
                    Error(request.id, ErrorKind.INTERNAL, f"{exc}\n{traceback.format_exc()}")
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
                self._queue.put((-1, next(self._seq), None))
                return
            if isinstance(request, CancelRequest):
                with self._lock:
                    self._cancelled.add(request.target)
                continue
            priority = getattr(request, "priority", Priority.INTERACTIVE)
            if isinstance(request, ShutdownRequest):
                priority = -1
            self._queue.put((int(priority), next(self._seq), request))
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
        try:
            self._conn.send(event)
        except (BrokenPipeError, OSError):
            pass

    def _handle(self, request: Request) -> None:
        if isinstance(request, LoadRequest):
            self._load(request)
        elif isinstance(request, GenerateRequest):
            self._generate_chat(request)
        elif isinstance(request, CompletionRequest):
            self._generate_completion(request)
        elif isinstance(request, TokenizeRequest):
            self._count_tokens(request)
        elif isinstance(request, UnloadRequest):
            self._unload()

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
        try:
            fmt = format_for_override(settings.chat_format, gguf.architecture, gguf.chat_template)
        except PromptFormatError as exc:
            llm.close()
            self._send(Error(request.id, ErrorKind.MODEL_FILE, str(exc)))
            return
        info = _model_info(settings, gguf, llm, fmt, load_ms, report)
        vocab = TokenVocabulary(
            bos_id=llm.token_bos() if llm.token_bos() >= 0 else None,
            bos_text=adapter.token_text(llm, llm.token_bos()) if llm.token_bos() >= 0 else "",
            eos_text=adapter.token_text(llm, llm.token_eos()) if llm.token_eos() >= 0 else "",
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
        result = self._run(
            model,
            request.id,
            prompt,
            request.max_tokens,
            request.sampling,
            stops,
            dropped=dropped,
        )
        if result is not None and result[1] in ("eos", "length"):
            text, _, ids = result
            self._replies.remember(text, ids)
            self._warm_next_turn((*messages, ChatMessage("assistant", text)))

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
        llm = model.llm
        prompt = llm.tokenize(request.prompt.encode("utf-8"), add_bos=True, special=True)
        self._run(
            model,
            request.id,
            prompt,
            request.max_tokens,
            request.sampling,
            request.stop,
            ignore_eos=request.ignore_eos,
        )

    def _run(
        self,
        model: _LoadedModel,
        request_id: int,
        prompt: list[int],
        max_tokens: int,
        sampling: Sampling,
        stops: tuple[str, ...],
        *,
        ignore_eos: bool = False,
        dropped: tuple[int, ...] = (),
    ) -> tuple[str, str, list[int]] | None:
        """The token loop. Returns (text, stop_reason, sampled ids) or None on error."""
        llm = model.llm
        t_start = time.perf_counter()
        n_ctx = llm.n_ctx()
        if len(prompt) >= n_ctx:
            self._send(
                Error(
                    request_id,
                    ErrorKind.PROMPT_TOO_LONG,
                    # Worded for any caller (chat, documents, translation), not only a chat.
                    f"The prompt is too long for this model's context window "
                    f"({len(prompt)} tokens; the limit is {n_ctx}). Choose a larger context "
                    f"size or send less text.",
                )
            )
            return None
        budget = min(max_tokens, n_ctx - len(prompt))
        cached = adapter.cached_tokens(llm)
        common = Llama.longest_token_prefix(cached, prompt)
        if common == len(prompt):
            evaluated = 0 if adapter.full_prompt_is_cached(llm, prompt) else 1
        else:
            evaluated = len(prompt) - common
        self._send(Started(request_id, len(prompt), n_ctx, dropped))
        if sampling.seed is not None:
            llm.set_seed(sampling.seed)
        adapter.reset_perf(llm)

        assembler = TextAssembler(stops)
        ids: list[int] = []
        stop_reason = "length"
        t_first: float | None = None
        t_last = t_start
        generator = llm.generate(
            prompt,
            temp=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            min_p=sampling.min_p,
            repeat_penalty=sampling.repeat_penalty,
        )
        try:
            for token in generator:
                now = time.perf_counter()
                if t_first is None:
                    t_first = now
                t_last = now
                if not ignore_eos and adapter.is_end_of_generation(llm, token):
                    stop_reason = "eos"
                    break
                ids.append(token)
                delta = assembler.feed(model.piece(token))
                if delta:
                    self._send(Delta(request_id, delta, 1))
                if assembler.stopped:
                    stop_reason = "stop"
                    break
                if self._is_cancelled(request_id):
                    stop_reason = "cancelled"
                    break
                if len(ids) >= budget:
                    stop_reason = "length" if budget == max_tokens else "context_full"
                    break
        finally:
            generator.close()
        tail = assembler.finish()
        if tail:
            self._send(Delta(request_id, tail, 0))
        with self._lock:
            self._cancelled.discard(request_id)

        perf = adapter.read_perf(llm)
        t_end = time.perf_counter()
        first = t_first if t_first is not None else t_end
        prefill_s = first - t_start
        decode_s = t_last - first
        completion = len(ids)
        stats = GenerationStats(
            model=model.info.name,
            chat_format=model.fmt.name,
            n_ctx=n_ctx,
            n_gpu_layers=model.info.n_gpu_layers,
            prompt_tokens=len(prompt),
            prompt_tokens_evaluated=evaluated,
            completion_tokens=completion,
            ttft_ms=prefill_s * 1000,
            prefill_tps=evaluated / prefill_s if prefill_s > 0 and evaluated else 0.0,
            # The first token comes out of the prefill step; the decode rate counts the rest.
            decode_tps=(completion - 1) / decode_s if completion > 1 and decode_s > 0 else 0.0,
            total_ms=(t_end - t_start) * 1000,
            stop_reason=stop_reason,
        )
        self._send(Done(request_id, assembler.text, stats, perf))
        return assembler.text, stop_reason, ids

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
        load_ms=load_ms,
        llama_cpp_version=adapter.library_version(),
        memory=report.memory,
        amx_off=report.amx_off,
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
