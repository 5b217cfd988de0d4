"""What the engine process sends back: one event or more per request, each carrying the id
of the request it answers (inference.protocol holds the requests and re-exports these).
Free of llama_cpp and Qt, like the requests."""

from __future__ import annotations

from dataclasses import dataclass

from inference.trace import LlamaPerf, Trace


@dataclass(frozen=True)
class MemoryUse:
    """What the loaded model really takes, from llama.cpp's own buffer reports: host buffers
    (CPU, CPU_Mapped, CUDA_Host, ...) count as RAM, device buffers as VRAM. `rss_bytes` is the
    engine process's resident memory right after loading (mmapped weights count only once
    touched, so it can be below the sum)."""

    weights_ram: int = 0
    weights_vram: int = 0
    kv_ram: int = 0
    kv_vram: int = 0
    compute_ram: int = 0  # compute and output buffers
    compute_vram: int = 0
    rss_bytes: int = 0

    @property
    def ram_bytes(self) -> int:
        return self.weights_ram + self.kv_ram + self.compute_ram

    @property
    def vram_bytes(self) -> int:
        return self.weights_vram + self.kv_vram + self.compute_vram


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    architecture: str
    quantization: str | None
    n_ctx: int
    n_ctx_train: int
    n_gpu_layers: int
    n_layers: int
    gpu_offload_supported: bool
    backend: str
    chat_format: str
    chat_format_label: str
    # The strings that end a reply (the first closes a turn in this format): the model's own
    # end-of-turn tokens, so a bug report shows why a reply stopped where it did.
    chat_format_stops: tuple[str, ...]
    load_ms: float
    llama_cpp_version: str
    memory: MemoryUse | None = None
    # Loaded without llama.cpp's AMX weight buffers (see llama_adapter.amx_path_disabled).
    amx_off: bool = False
    # CPU threads the loaded context really uses (read back from llama.cpp) for decode and
    # for prefill, and whether each was the user's setting rather than the default.
    n_threads: int = 0
    n_threads_batch: int = 0
    n_threads_user_set: bool = False
    n_threads_batch_user_set: bool = False
    # The context size is a guess, not the server's word (a remote backend that does not
    # say; issue 14): a context meter shows it as an estimate.
    n_ctx_estimated: bool = False
    # llama.cpp's own line on its build and this CPU (llama_print_system_info: the backends
    # compiled in, CPU features), for the About dialog's diagnostics; "" when not known.
    system_info: str = ""
    # The draft model loaded with it (issue 13): its name ("" none), what llama.cpp allocated
    # for it (weights, its own KV cache), and why the one asked for was left out ("" when it
    # loaded or none was asked for).
    draft_name: str = ""
    draft_memory: MemoryUse | None = None
    draft_note: str = ""
    # Flash attention as llama.cpp resolved it at load, "on" or "off" (EngineSettings'
    # "auto" decided); "" when not known (a remote backend). What drafting, the KV state's
    # identity and the Models page go by.
    flash_attn: str = ""


@dataclass(frozen=True)
class LoadProgress:
    id: int
    fraction: float
    text: str


@dataclass(frozen=True)
class Loaded:
    id: int
    info: ModelInfo


@dataclass(frozen=True)
class Unloaded:
    """The answer to UnloadRequest: no model is loaded now."""

    id: int


@dataclass(frozen=True)
class StateBudgetSet:
    """The answer to SetStateBudget: the budget the engine keeps to now (0 with no model
    loaded: the next load brings one) and how many kept states went to fit it."""

    id: int
    budget_bytes: int
    removed: int


@dataclass(frozen=True)
class Warmed:
    """The answer to WarmRequest (issue 13): what became of the conversation's kept state.
    `kept_state`: a KeptState value ("restored": the live cache holds it now;
    "live_better": it held it already; "" none kept), or WARM_BUSY / WARM_SUPERSEDED when
    the warm was skipped; `tokens_restored` and `restore_ms` as in Trace. `typed_tokens`:
    prompt tokens read ahead for WarmRequest.typing (its turn's opening included), in
    `typed_ms`."""

    id: int
    kept_state: str
    tokens_restored: int = 0
    restore_ms: float = 0.0
    typed_tokens: int = 0
    typed_ms: float = 0.0


# Warmed.kept_state when a warm was skipped: a generation is paused (its cache must stay),
# or a newer warm waits in the queue (only the last opened chat matters).
WARM_BUSY = "busy"
WARM_SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Started:
    """Prompt prepared; generation begins. Lets the UI show context usage at once."""

    id: int
    prompt_tokens: int
    n_ctx: int
    # Indices of request messages left out to fit the context (never silently).
    dropped: tuple[int, ...] = ()


@dataclass(frozen=True)
class PrefillProgress:
    """Sent after each prefill batch (one llama_decode of up to n_batch prompt tokens):
    `done` of the `total` tokens to read before the first new token are now in the KV cache,
    the reused cached prefix included. Between two batches a cancel or a waiting chat turn
    takes effect, so a long document prompt never holds the engine for more than a batch."""

    id: int
    done: int
    total: int


@dataclass(frozen=True)
class Delta:
    id: int
    text: str
    n_tokens: int


@dataclass(frozen=True)
class GenerationStats:
    """Field names match storage.records.StatsRecord so the app copies them one to one."""

    model: str
    chat_format: str
    n_ctx: int
    n_gpu_layers: int
    prompt_tokens: int
    prompt_tokens_evaluated: int
    completion_tokens: int
    # Prefill to first token (not "time to first token", which the app measures from Enter
    # to the first paint: README "What the numbers mean"): from the start of the generation
    # (prompt built) to the first token out of the sampler, time paused for a chat excluded.
    ttft_ms: float
    prefill_tps: float
    decode_tps: float
    total_ms: float
    stop_reason: str


@dataclass(frozen=True)
class Done:
    id: int
    text: str
    stats: GenerationStats
    perf: LlamaPerf | None = None
    # The request's timeline as the engine measured it (inference/trace.py; issue 12).
    trace: Trace | None = None
    # A remote server's own side of the reply (issue 14): None for the local engine.
    server: ServerFigures | None = None


@dataclass(frozen=True)
class Preempted:
    """A background generation paused between two prefill batches or two tokens because an
    interactive request was waiting (`by`). Not an end: the engine resumes it on its own once
    the interactive work is done, continuing after the text already streamed, and ends it
    with one Done."""

    id: int
    by: int
    completion_tokens: int  # sampled so far


@dataclass(frozen=True)
class Tokenized:
    id: int
    n_tokens: int  # for a batch (TokenizeRequest.texts), the sum of `counts`
    counts: tuple[int, ...] = ()  # one per text of a batch, in order; empty otherwise


@dataclass(frozen=True)
class RequestRecord:
    """One finished request as the engine saw it, for tests and bug reports. `prompt` and
    `reply` hold text only when the engine was started with HEARTH_REQUEST_LOG set."""

    id: int
    kind: str  # "chat", "completion" or "load"
    priority: int
    model: str
    prompt_tokens: int
    prompt_tokens_evaluated: int  # summed over resumes: a resume after a chat re-evaluates
    completion_tokens: int
    stop_reason: str  # a GenerationStats stop reason, "loaded" or "error:<kind>"
    preemptions: int
    total_ms: float  # engine time spent on it, not counting the time it was paused
    prompt: str | None = None
    reply: str | None = None


@dataclass(frozen=True)
class RequestLogReport:
    id: int
    records: tuple[RequestRecord, ...]  # oldest first, in the order they ended


class ErrorKind:
    MODEL_FILE = "model_file"  # missing, corrupt, unsupported
    NOT_LOADED = "not_loaded"
    PROMPT_TOO_LONG = "prompt_too_long"
    BAD_REQUEST = "bad_request"
    CANCELLED = "cancelled"
    # A paused background request cannot continue: another model was loaded meanwhile.
    MODEL_CHANGED = "model_changed"
    # A bench run gave way to a chat turn between two steps: its timing would be wrong, so
    # it ends and the caller runs it again.
    BENCH_PREEMPTED = "bench_preempted"
    INTERNAL = "internal"
    # Never sent by the engine: a caller-side front (inference/async_client.py) ends a stream
    # its caller abandoned (an API client that went away) with it, waking whoever waits.
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class Error:
    id: int
    kind: str
    message: str


@dataclass(frozen=True)
class BenchProgress:
    """Sent after each batch of a bench run's depth and prompt phases ("depth", "prompt") and
    about four times a second while it generates ("gen"): `done` of `total` tokens."""

    id: int
    phase: str
    done: int
    total: int


@dataclass(frozen=True)
class BenchDone:
    """One bench repetition's figures. Hearth's wall clock (time.perf_counter in the engine):
    `pp_ms` from before the first prompt batch's llama_decode to after the last one's
    llama_synchronize, `tg_ms` from before the first generated token's decode to after the
    last one's. `perf` is llama.cpp's llama_perf_context for the same decodes, reset after
    the depth phase: t_p_eval_ms/n_p_eval cover the prompt batches, t_eval_ms/n_eval the
    single-token decodes."""

    id: int
    n_prompt: int
    n_gen: int
    depth: int
    pp_ms: float
    tg_ms: float
    perf: LlamaPerf


Event = (
    LoadProgress
    | Loaded
    | Started
    | PrefillProgress
    | Delta
    | Preempted
    | Done
    | Tokenized
    | RequestLogReport
    | Error
    | BenchProgress
    | BenchDone
    | Unloaded
    | StateBudgetSet
    | Warmed
)


@dataclass(frozen=True)
class ServerFigures:
    """A remote OpenAI-compatible server's side of one reply (inference/backends/; issue 14),
    kept beside the stats Hearth measured on its own clock so a timing view can show both
    sides of the wire.

    `token_count` says where GenerationStats.completion_tokens came from: "usage" (the
    server's `usage.completion_tokens`, sent with stream_options.include_usage) or "deltas"
    (the content deltas Hearth received, one per token on llama.cpp's servers). `deltas` is
    that count of content deltas either way. `usage` and `timings` are the server's objects
    as sent (llama-server's `timings`: prompt_n, cache_n, prompt_ms, predicted_n,
    predicted_ms, predicted_per_second...), None when it sent none. `finish_reason` is the
    server's own word for the end ("stop", "length"...), None when the stream broke off."""

    base_url: str
    model: str
    token_count: str
    deltas: int
    usage: dict[str, object] | None = None
    timings: dict[str, object] | None = None
    finish_reason: str | None = None
