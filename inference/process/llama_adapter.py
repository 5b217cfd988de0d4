"""The one place that touches llama-cpp-python's private attributes, with its two parts
llama_state.py (a sequence's KV state out and back, issue 13) and llama_rows.py (several
rows per decode for speculative decoding, issue 13).

llama-cpp-python (0.3.x) exposes no timings or progress API; its internals (`_ctx`,
`_model`, `_input_ids`, the model-params factory) are stable in practice but private, so a
version bump only ever needs changes in these three modules. Engine process only.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
from llama_cpp import Llama

from inference.kv_cache_rules import FLASH_ON
from inference.process import flash_attention as flash
from inference.process.cpu_threads import resolve_thread_counts
from inference.process.kv_memory import holds_prefix
from inference.process.llama_logs import (
    context_error_from_logs,
    load_error_from_logs,
    memory_from_logs,
    offloaded_from_logs,
    recording_logs,
)
from inference.process.prefill_watch import PrefillWatch
from inference.protocol import EngineSettings, LlamaPerf, MemoryUse
from inference.templates import ModelTokens

ProgressFn = Callable[[float], None]


@contextmanager
def _model_params(on_progress: ProgressFn | None, use_extra_bufts: bool) -> Iterator[None]:
    """Llama() takes neither a progress callback nor `use_extra_bufts`: set both through
    the params factory it calls while loading, and restore the factory afterwards."""
    original = llama_lib.llama_model_default_params
    c_callback: Any = None
    if on_progress is not None:
        report = on_progress

        def _callback(progress: float, _user_data: ctypes.c_void_p) -> bool:
            try:
                report(float(progress))
            except Exception:
                pass
            return True

        c_callback = llama_lib.llama_progress_callback(_callback)

    def _params() -> Any:
        params = original()
        if c_callback is not None:
            params.progress_callback = c_callback
        params.use_extra_bufts = use_extra_bufts
        return params

    llama_lib.llama_model_default_params = _params
    try:
        yield
    finally:
        llama_lib.llama_model_default_params = original


def system_info() -> str:
    return llama_lib.llama_print_system_info().decode("utf-8", "replace")


def amx_path_disabled() -> bool:
    """ggml's AMX matrix kernels segfault on the first evaluation on some Sapphire/Granite
    Rapids machines (virtualized ones especially; ggml-org/llama.cpp#20824, open with no
    fix), taking the engine down with Q4_K models such as the built-in Gemma. On a build
    with AMX, load without the extra (AMX/repack) weight buffers: slower matrix products,
    but a model that runs. HEARTH_AMX=1 keeps them for machines known to be fine."""
    if os.environ.get("HEARTH_AMX") == "1":
        return False
    return "AMX_INT8 = 1" in system_info()


def process_rss() -> int:
    """This process's resident memory in bytes (0 when it cannot be read)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # psutil missing or the platform refuses: not worth failing a load
        return 0


class ContextSetupError(ValueError):
    """The weights loaded but llama.cpp refused the context these settings ask for."""


@dataclass(frozen=True)
class LoadReport:
    """What llama.cpp itself reported while loading."""

    memory: MemoryUse
    offloaded_layers: int | None
    amx_off: bool
    flash_attn: str = ""  # "on" or "off", as llama.cpp resolved the setting


def load_llama_measured(
    settings: EngineSettings, on_progress: ProgressFn | None = None
) -> tuple[Llama, LoadReport]:
    """Load like `load_llama`, and report what llama.cpp allocated and offloaded for it."""
    with recording_logs() as lines:
        try:
            llm = load_llama(settings, on_progress)
        except ValueError as exc:
            # Llama() only says "Failed to load model"; llama.cpp logged why.
            reason = load_error_from_logs("".join(lines))
            if reason:
                raise ValueError(reason) from exc
            context = context_error_from_logs("".join(lines))
            if context:
                raise ContextSetupError(context) from exc
            raise
    memory = memory_from_logs("".join(lines), process_rss())
    if memory.weights_ram + memory.weights_vram == 0:
        # No buffer report (log format changed): the weights' size is still known.
        memory = MemoryUse(
            weights_ram=int(llama_lib.llama_model_size(llm.model)), rss_bytes=memory.rss_bytes
        )
    offloaded = offloaded_from_logs("".join(lines))
    resolved = flash.flash_attention(llm)
    return llm, LoadReport(memory, offloaded, amx_off=amx_path_disabled(), flash_attn=resolved)


def load_llama(settings: EngineSettings, on_progress: ProgressFn | None = None) -> Llama:
    kwargs: dict[str, Any] = {
        "model_path": settings.model_path,
        "n_ctx": settings.n_ctx,
        "n_gpu_layers": settings.n_gpu_layers,
        "n_batch": settings.n_batch,
        "n_ubatch": min(settings.n_batch, 512),
        "flash_attn": settings.flash_attn == FLASH_ON,  # auto: requested_flash_type
        "type_k": kv_cache_type(settings.type_k),
        "type_v": kv_cache_type(settings.type_v),
        "verbose": False,
    }
    # Never llama-cpp-python's own default (half the logical CPUs: one thread on a 2-vCPU
    # machine, half its decode speed): see inference/process/cpu_threads.py.
    threads = resolve_thread_counts(settings.n_threads, settings.n_threads_batch)
    kwargs["n_threads"] = threads.n_threads
    kwargs["n_threads_batch"] = threads.n_threads_batch
    if settings.seed >= 0:
        kwargs["seed"] = settings.seed
    with (
        recording_logs() as lines,
        _model_params(on_progress, use_extra_bufts=not amx_path_disabled()),
        flash.requested_flash_type(settings.flash_attn),
    ):
        llm = Llama(**kwargs)
    flash.pin_resolved(llm, flash.resolved_from_logs(settings.flash_attn, "".join(lines)))
    return llm


# The KV cache element types llama.cpp accepts (llama-bench's -ctk/-ctv list).
KV_CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")


def kv_cache_type(name: str) -> int:
    """The ggml type id of a KV cache type name; ValueError, worded for the user, if unknown."""
    value = getattr(llama_lib, f"GGML_TYPE_{name.upper()}", None)
    if name.lower() not in KV_CACHE_TYPES or not isinstance(value, int):
        raise ValueError(
            f"unknown KV cache type '{name}' (this llama.cpp takes {', '.join(KV_CACHE_TYPES)})"
        )
    return value


def thread_counts(llm: Llama) -> tuple[int, int]:
    """(decode, prefill) threads the live context really uses, as llama.cpp reports them."""
    ctx = llm._ctx.ctx
    return int(llama_lib.llama_n_threads(ctx)), int(llama_lib.llama_n_threads_batch(ctx))


def reset_perf(llm: Llama) -> None:
    """Start llama.cpp's counters afresh for this request. llama.cpp adds a decode's time to
    its counters when it next synchronizes, so work left unsynchronized before (the next
    turn's warm-up after a reply) would be billed to this request: finish it first."""
    llama_lib.llama_synchronize(llm._ctx.ctx)
    llama_lib.llama_perf_context_reset(llm._ctx.ctx)


def read_perf(llm: Llama) -> LlamaPerf:
    data = llama_lib.llama_perf_context(llm._ctx.ctx)
    return LlamaPerf(
        t_p_eval_ms=float(data.t_p_eval_ms),
        n_p_eval=int(data.n_p_eval),
        t_eval_ms=float(data.t_eval_ms),
        n_eval=int(data.n_eval),
    )


def clear_kv_cache(llm: Llama) -> None:
    """Empty the KV cache and forget its tokens (the next prompt is evaluated in full)."""
    llm._ctx.kv_cache_clear()
    llm.reset()


def synchronize(llm: Llama) -> None:
    """Wait for the last llama_decode to finish. llama.cpp books a decode in its perf counters
    only here (one token: eval; more: prompt eval), as llama-bench relies on."""
    llama_lib.llama_synchronize(llm._ctx.ctx)


def plain_token_ids(llm: Llama) -> list[int]:
    """Every vocabulary id except control tokens (BOS, EOS, <end_of_turn>, ...): what a
    benchmark may feed at random without changing what the model is doing."""
    vocab = llm._model.vocab
    control = llama_lib.LLAMA_TOKEN_ATTR_CONTROL
    n_vocab = int(llama_lib.llama_vocab_n_tokens(vocab))
    return [t for t in range(n_vocab) if not llama_lib.llama_vocab_get_attr(vocab, t) & control]


def generate(
    llm: Llama, tokens: Sequence[int], sampled: Sequence[int], **sampling: Any
) -> Generator[int, Any, None]:
    """Llama.generate over `tokens`, whose tail `sampled` this reply already sampled before
    it was paused: its sampler starts with them in its repeat-penalty window, as if the
    reply had never stopped (a fresh sampler would remember none of them and pick other
    tokens than the uninterrupted reply)."""
    if not sampled:
        return llm.generate(tokens, **sampling)
    original = llm._init_sampler
    window = sampled[-llm.last_n_tokens_size :]

    def primed(*args: Any, **kwargs: Any) -> Any:
        sampler = original(*args, **kwargs)
        for token in window:
            sampler.accept(token)
        return sampler

    llm._init_sampler = primed  # type: ignore[method-assign]
    generator = llm.generate(tokens, **sampling)
    try:
        # The sampler is made on the first step; that step also evaluates the prompt.
        first = next(generator)
    except StopIteration:
        return _chain_first(None, generator)
    finally:
        llm._init_sampler = original  # type: ignore[method-assign]
    return _chain_first(first, generator)


def _chain_first(
    first: int | None, generator: Generator[int, Any, None]
) -> Generator[int, Any, None]:
    try:
        if first is not None:
            yield first
            yield from generator
    finally:
        generator.close()


def prefill_batches(
    llm: Llama, tokens: Sequence[int], watch: PrefillWatch | None = None
) -> Iterator[int]:
    """Evaluate the prompt `tokens`, one llama_decode per step, yielding after each how many
    tokens of it are in the KV cache. Only the part past the longest prefix already cached is
    evaluated. The last step leaves the logits of the prompt's last token live, so `generate`
    then finds the whole prompt cached and samples at once (no extra decode of that token on
    its own: a whole decode step of time on a large model).

    Stopping between two steps, or inside one through `watch` (llama.cpp's abort callback,
    prefill_watch.py), leaves a valid cache: an aborted step's tokens are dropped by
    llama.cpp and not counted here, and a later call reuses what was evaluated. Llama.eval
    would take the whole prompt in one call, with no way to stop or report in between.
    Steps are n_batch tokens, or what `watch.next_step` says."""
    target = len(tokens)
    common = Llama.longest_token_prefix(cached_tokens(llm), tokens)
    if common >= target - 1:
        return  # at most the last token left: `generate` handles it as always
    # Drop what follows the shared prefix, as Llama.generate does; a memory that cannot
    # remove a tail (recurrent models) or no longer holds what the rest attends to (the
    # sliding window of a restored state: kv_memory.py) starts over.
    if common > 0 and not holds_prefix(llm, common):
        common = 0
    if common > 0 and not llm._ctx.kv_cache_seq_rm(-1, common, -1):
        common = 0
    if common == 0:
        llm.reset()
    else:
        llm.n_tokens = common
        llm._requires_eval = True
    n_batch = max(1, int(llm.n_batch))
    start = common
    with _abort_callback(llm, None if watch is None else watch.tick):
        while start < target:
            size = n_batch if watch is None else max(1, min(n_batch, watch.next_step(n_batch)))
            end = min(target, start + size)
            if watch is not None:
                watch.begin(start, end - start)
            try:
                llm.eval(tokens[start:end])
            except RuntimeError:
                if watch is not None and watch.stopped:
                    return  # aborted inside the step: llama.cpp dropped its tokens
                raise
            if watch is not None:
                watch.end()
            start = end
            yield llm.n_tokens


@contextmanager
def _abort_callback(llm: Llama, tick: Callable[[], bool] | None) -> Iterator[None]:
    """llama.cpp calls `tick` after each graph node its CPU backend computes (on the thread
    in llama_decode); True aborts the decode. Set for the prefill only: a decode step of one
    token has no use for it. An exception in `tick` must not cross into C: it counts as
    "go on"."""
    if tick is None:
        yield
        return

    def _callback(_data: ctypes.c_void_p) -> bool:
        try:
            return bool(tick())
        except Exception:
            return False

    c_callback = llama_lib.ggml_abort_callback(_callback)
    ctx = llm._ctx.ctx
    llama_lib.llama_set_abort_callback(ctx, c_callback, None)
    try:
        yield
    finally:
        none = ctypes.cast(None, llama_lib.ggml_abort_callback)
        llama_lib.llama_set_abort_callback(ctx, none, None)


def cached_tokens(llm: Llama) -> Sequence[int]:
    """Token ids whose keys/values are in the live KV cache."""
    return llm.input_ids[: llm.n_tokens].tolist()


def full_prompt_is_cached(llm: Llama, tokens: Sequence[int]) -> bool:
    """Mirrors Llama.generate: an exact hit with live logits evaluates nothing."""
    return llm.n_tokens == len(tokens) and not llm._requires_eval


class PieceReader:
    """Bytes of one token. llama-cpp-python's own `_model.token_to_piece` returns its whole
    32-byte buffer, NUL padding included, so read the length llama.cpp reports instead."""

    def __init__(self, llm: Llama) -> None:
        self._vocab = llm._model.vocab
        self._size = 64
        self._buffer = ctypes.create_string_buffer(self._size)
        self._cache: dict[int, bytes] = {}

    def __call__(self, token: int) -> bytes:
        piece = self._cache.get(token)
        if piece is None:
            piece = self._read(token)
            if len(self._cache) < 65536:
                self._cache[token] = piece
        return piece

    def _read(self, token: int) -> bytes:
        n = llama_lib.llama_token_to_piece(self._vocab, token, self._buffer, self._size, 0, False)
        if n < 0:  # buffer too small: llama.cpp tells how much it needs
            self._size = -n
            self._buffer = ctypes.create_string_buffer(self._size)
            n = llama_lib.llama_token_to_piece(
                self._vocab, token, self._buffer, self._size, 0, False
            )
        return self._buffer.raw[:n]


def is_end_of_generation(llm: Llama, token: int) -> bool:
    return bool(llama_lib.llama_vocab_is_eog(llm._model.vocab, token))


def token_text(llm: Llama, token: int) -> str:
    return llm._model.token_get_text(token)


def adds_bos(llm: Llama) -> bool:
    """The GGUF's tokenizer.ggml.add_bos_token as llama.cpp resolved it (its default when the
    key is absent depends on the tokenizer type): llama.cpp's own tokenize adds BOS only then."""
    return bool(llama_lib.llama_vocab_get_add_bos(llm._model.vocab))


def model_tokens(llm: Llama, metadata: Mapping[str, object]) -> ModelTokens:
    """The model's BOS/EOS text and its own end-of-turn tokens: end of turn (llama.cpp's eot,
    which it also finds by text such as "<|im_end|>" when the GGUF names none), end of message
    (tokenizer.ggml.eom_token_id; llama.cpp has no getter for it) and end of sequence."""
    vocab = llm._model.vocab
    n_vocab = int(llama_lib.llama_vocab_n_tokens(vocab))

    def text(token: object) -> str:
        # A GGUF may name ids outside its vocabulary; llama.cpp loads such files anyway.
        if not isinstance(token, int) or isinstance(token, bool) or not 0 <= token < n_vocab:
            return ""
        return token_text(llm, token)

    eos = text(int(llama_lib.llama_vocab_eos(vocab)))
    ends = (
        text(int(llama_lib.llama_vocab_eot(vocab))),
        text(metadata.get("tokenizer.ggml.eom_token_id")),
        eos,
    )
    return ModelTokens(
        bos=text(int(llama_lib.llama_vocab_bos(vocab))),
        eos=eos,
        end_of_turn=tuple(dict.fromkeys(t for t in ends if t)),
    )


def n_ctx_train(llm: Llama) -> int:
    return int(llm._model.n_ctx_train())


def n_layers(llm: Llama) -> int:
    return int(llama_lib.llama_model_n_layer(llm.model))


def gpu_offload_supported() -> bool:
    return bool(llama_lib.llama_supports_gpu_offload())


def backend_name(n_gpu_layers: int) -> str:
    """Which compute backend actually runs the layers, in words for the status bar."""
    if n_gpu_layers == 0 or not gpu_offload_supported():
        return "CPU"
    info = system_info().upper()
    for name in ("CUDA", "METAL", "VULKAN", "HIP", "SYCL"):
        if name in info:
            return name.title() if name in ("METAL", "VULKAN") else name
    return "GPU"


def library_version() -> str:
    return str(getattr(llama_cpp, "__version__", "unknown"))
