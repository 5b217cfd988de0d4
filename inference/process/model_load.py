"""Loading a model in the engine process: the GGUF check, llama.cpp's load with progress,
the chat format, the ModelInfo the GUI shows and the message when llama.cpp refuses a file."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from inference.gguf import GGUFInfo, ModelFileError, inspect_gguf
from inference.kv_cache_rules import kv_cache_refusal
from inference.process import llama_adapter as adapter
from inference.process.draft_model import DraftModel, load_draft_model
from inference.process.prompt_tokens import PromptBuilder, ReplyTokenMemory, TokenVocabulary
from inference.protocol import (
    EngineSettings,
    Error,
    ErrorKind,
    LoadProgress,
    LoadRequest,
    ModelInfo,
)
from inference.templates import ChatFormat, PromptFormatError, format_for_override

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    llm: Llama
    info: ModelInfo
    fmt: ChatFormat
    builder: PromptBuilder
    piece: adapter.PieceReader
    draft: DraftModel | None = None  # issue 13: closed with the main model

    def close(self) -> None:
        self.llm.close()
        if self.draft is not None:
            self.draft.close()


def load_model(
    request: LoadRequest, send: Callable[[Any], None], replies: ReplyTokenMemory
) -> LoadedModel | None:
    """The model the request names, its prompts remembering replies in `replies`; None after
    sending the error that explains why not. Progress events are sent on the way."""
    settings = request.settings
    send(LoadProgress(request.id, 0.0, "Checking the model file…"))
    try:
        gguf = inspect_gguf(Path(settings.model_path))
    except ModelFileError as exc:
        send(Error(request.id, ErrorKind.MODEL_FILE, str(exc)))
        return None
    try:  # a KV cache type llama.cpp lacks is the setting's fault, not the file's
        adapter.kv_cache_type(settings.type_k)
        adapter.kv_cache_type(settings.type_v)
    except ValueError as exc:
        send(Error(request.id, ErrorKind.BAD_REQUEST, f"Cannot load with these settings: {exc}."))
        return None
    # Checked before llama.cpp sees it: its refusal is worded for developers.
    refusal = kv_cache_refusal(
        settings.type_k, settings.type_v, settings.flash_attn, **head_dims(gguf)
    )
    if refusal:
        send(Error(request.id, ErrorKind.BAD_REQUEST, f"{refusal}."))
        return None
    last = [-1.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.02 or fraction >= 1.0:
            last[0] = fraction
            send(LoadProgress(request.id, fraction, "Loading the model…"))

    started = time.perf_counter()
    try:
        llm, report = adapter.load_llama_measured(settings, progress)
    except adapter.ContextSetupError as exc:
        message = f"llama.cpp cannot set up the model with these settings: {exc}."
        send(Error(request.id, ErrorKind.BAD_REQUEST, message))
        return None
    except (ValueError, RuntimeError, OSError) as exc:
        send(Error(request.id, ErrorKind.MODEL_FILE, load_failure_message(gguf, exc)))
        return None
    load_ms = (time.perf_counter() - started) * 1000
    tokens = adapter.model_tokens(llm, gguf.metadata)
    try:
        fmt = format_for_override(
            settings.chat_format, gguf.architecture, gguf.chat_template, tokens
        )
    except PromptFormatError as exc:
        llm.close()
        send(Error(request.id, ErrorKind.MODEL_FILE, str(exc)))
        return None
    info = model_info(settings, gguf, llm, fmt, load_ms, report)
    vocab = TokenVocabulary(
        bos_id=llm.token_bos() if llm.token_bos() >= 0 else None,
        bos_text=tokens.bos,
        eos_text=tokens.eos,
        add_bos=adapter.adds_bos(llm),
    )

    def tokenize(text: str, special: bool) -> list[int]:
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    builder = PromptBuilder(fmt, vocab, tokenize, replies)
    _prepare_template(builder)
    draft = None
    if settings.draft_model_path:
        send(LoadProgress(request.id, 1.0, "Loading the draft model…"))
        draft, note = load_draft_model(settings, llm.n_ctx())
        info = replace(
            info,
            draft_name=draft.name if draft else "",
            draft_memory=draft.memory if draft else None,
            draft_note=note,
        )
    return LoadedModel(llm, info, fmt, builder, adapter.PieceReader(llm), draft)


def _prepare_template(builder: PromptBuilder) -> None:
    """Render the chat template once at load: its first rendering compiles it (5 ms for
    Gemma 3's), which the first message after every load would otherwise pay at Enter. A
    template that fails here fails the same way, with its message, on that first request;
    nothing here may fail a load (it only saves time)."""
    try:
        builder.next_turn_prefix([])
    except Exception as exc:
        log.info("chat template not prepared at load: %s", exc)
    finally:
        builder.take_times()


def head_dims(gguf: GGUFInfo) -> dict[str, int | None]:
    """The widths of the model's key and value heads, as llama.cpp derives them (explicit
    key_length/value_length, else embedding_length / head_count); None where unknown."""
    meta, arch = gguf.metadata, gguf.architecture

    def number(key: str) -> int | None:
        value = meta.get(f"{arch}.{key}")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    embd, heads = number("embedding_length"), number("attention.head_count")
    k = number("attention.key_length") or (embd // heads if embd and heads else None)
    v = number("attention.value_length") or k
    return {"head_dim_k": k, "head_dim_v": v}


def model_info(
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
        system_info=adapter.system_info().strip(),
        flash_attn=report.flash_attn,
    )


def load_failure_message(gguf: GGUFInfo, exc: Exception) -> str:
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
