"""Messages between the GUI/CLI process and the engine process.

Small frozen dataclasses sent over a multiprocessing pipe. Requests go in, events come out;
every message carries the id of the request it belongs to. Kept free of llama_cpp and Qt so
both sides (and the CLI) can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from inference.kv_cache_rules import flash_attn_mode

# Re-exported: a Done carries a Trace.
from inference.trace import CacheMiss as CacheMiss
from inference.trace import KeptState as KeptState
from inference.trace import LlamaPerf as LlamaPerf
from inference.trace import MissCode as MissCode
from inference.trace import RanMeanwhile as RanMeanwhile
from inference.trace import Trace as Trace

# Re-exported: the kinds of work a request names, and their check.
from inference.work_kinds import DRAFTING_MODES as DRAFTING_MODES
from inference.work_kinds import Work as Work
from inference.work_kinds import check_work_and_drafting


class Priority(IntEnum):
    """Lower runs first: a chat turn overtakes queued background work."""

    INTERACTIVE = 0
    BACKGROUND = 10
    # Requests to Hearth's API server (issue 14): after a person typing in the window (they
    # pause between tokens for a chat turn), before the window's own batch work (summaries,
    # translations), which they pause in turn: someone is waiting on an API reply (an editor,
    # a script), nobody watches a summary token by token.
    API = 5


@dataclass(frozen=True)
class EngineSettings:
    model_path: str
    n_ctx: int = 4096
    n_gpu_layers: int = 0
    # CPU threads for decode and for prefill; None: inference.process.cpu_threads chooses.
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_batch: int = 512
    # "auto" | "on" | "off" (inference.kv_cache_rules.flash_attn_mode; a bool still means
    # on/off): llama.cpp's flash_attn_type. What auto resolved to is ModelInfo.flash_attn.
    flash_attn: str = "auto"
    seed: int = -1
    # "auto" (the model's own template, else the architecture's built-in), a built-in format
    # name ("gemma", "chatml", ...), or the text of a custom Jinja template (sandboxed).
    chat_format: str = "auto"
    # KV cache element types by ggml name ("f16", "q8_0", "q4_0", ...; llama-bench's -ctk/-ctv).
    # A quantized V cache needs flash_attn in llama.cpp.
    type_k: str = "f16"
    type_v: str = "f16"
    # A smaller GGUF with the same vocabulary whose greedy guesses the main model verifies
    # (speculative decoding, issue 13); "" none. Checked against the main model's vocabulary
    # before loading (inference.gguf.vocabulary); one that does not fit is left out with
    # ModelInfo.draft_note saying why, and the main model loads all the same.
    draft_model_path: str = ""

    def __post_init__(self) -> None:
        # Callers and settings written before the three-way setting pass a bool.
        object.__setattr__(self, "flash_attn", flash_attn_mode(self.flash_attn))


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    seed: int | None = None


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


# ---- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptStates:
    """Where the engine keeps conversations' KV states between processes (issue 13) and
    how many bytes they may take there; inference/state_files.py is the store. Sent with
    every LoadRequest: the states belong to the model loaded, and a restarted engine learns
    the folder again from the load that follows. An empty folder keeps nothing."""

    folder: str = ""
    budget_bytes: int = 4 << 30
    # The file where the engine keeps drafting's measured speeds per model and kind of work
    # (inference/process/draft_memory.py), so a restart does not measure again. "": none.
    draft_speeds: str = ""


@dataclass(frozen=True)
class LoadRequest:
    id: int
    settings: EngineSettings
    # None: this engine keeps no KV states on disk (requests' state_key are ignored).
    kept_states: KeptStates | None = None


@dataclass(frozen=True)
class GenerateRequest:
    id: int
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 512
    sampling: Sampling = field(default_factory=Sampling)
    stop: tuple[str, ...] = ()
    priority: Priority = Priority.INTERACTIVE
    # What to do when the conversation outgrows the context: an OverflowPolicy value.
    overflow: str = "fail"
    # Names the conversation whose KV state the engine keeps on disk after the reply and
    # restores on a later request with the same key (issue 13): "chat:<conversation id>";
    # for summaries and translations a key naming the fixed part of the prompt. "": none.
    state_key: str = ""
    # Speculative decoding (issue 13): "auto" drafts where the engine measured that it pays
    # for this model and `work`; "on"/"off" force it (tests, benchmarks).
    drafting: str = "auto"
    # The kind of work ("chat", "summary", "translation", "title", ...): drafting's speeds
    # are kept per kind. "" is the request's own kind ("chat" or "completion").
    work: str = ""

    def __post_init__(self) -> None:
        check_work_and_drafting(self.work, self.drafting)


@dataclass(frozen=True)
class CompletionRequest:
    """Raw text completion (no chat template): used by benchmarks and non-chat tasks."""

    id: int
    prompt: str
    max_tokens: int = 512
    sampling: Sampling = field(default_factory=Sampling)
    stop: tuple[str, ...] = ()
    priority: Priority = Priority.BACKGROUND
    # Benchmarks need replies of an exact length; a chat never sets this.
    ignore_eos: bool = False
    # As GenerateRequest.state_key (issue 13): "" keeps nothing.
    state_key: str = ""
    # Speculative decoding (issue 13): "auto" drafts where the engine measured that it pays
    # for this model and `work`; "on"/"off" force it (tests, benchmarks).
    drafting: str = "auto"
    # The kind of work ("chat", "summary", "translation", "title", ...): drafting's speeds
    # are kept per kind. "" is the request's own kind ("chat" or "completion").
    work: str = ""

    def __post_init__(self) -> None:
        check_work_and_drafting(self.work, self.drafting)


@dataclass(frozen=True)
class TokenizeRequest:
    id: int
    text: str
    # Parse control tokens such as <end_of_turn> (template text, never user text).
    special: bool = False
    # When given, count the whole chat prompt these messages make (template included)
    # instead of `text`: the context budget shown while the user types.
    messages: tuple[ChatMessage, ...] = ()
    # When given, count each of these texts instead of `text` (reply: Tokenized.counts), so
    # a splitter asks once for a whole batch of paragraphs: every round trip costs ~1 ms.
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CancelRequest:
    id: int
    target: int


@dataclass(frozen=True)
class RequestLogRequest:
    """Ask for the engine's record of its last requests (answered with RequestLogReport)."""

    id: int


@dataclass(frozen=True)
class ShutdownRequest:
    id: int


@dataclass(frozen=True)
class BenchRequest:
    """One llama-bench-style repetition on the loaded model (inference/process/bench_run.py):
    clear the KV cache, evaluate `depth` random tokens untimed, then time the prefill of
    `n_prompt` random tokens (n_batch per step) and the decode of `n_gen` tokens one per step,
    never stopping at an end token. Answered with BenchProgress events and one BenchDone."""

    id: int
    n_prompt: int = 512
    n_gen: int = 128
    depth: int = 0
    seed: int = 0  # the random token ids: the same seed evaluates the same tokens
    priority: Priority = Priority.BACKGROUND


@dataclass(frozen=True)
class UnloadRequest:
    """Free the loaded model's memory and keep the process (issue 14: a model on a server is
    chosen instead); answered with Unloaded, also when no model was loaded."""

    id: int


@dataclass(frozen=True)
class SetStateBudget:
    """A new disk budget for the kept KV states (issue 13; KeptStates.budget_bytes), applied
    by the running engine at once: the least recently used states go until the folder fits,
    and states saved from now on keep within it. Answered with StateBudgetSet. The next load
    brings the budget again (the app sends its settings' with every load)."""

    id: int
    budget_bytes: int


Request = (
    LoadRequest
    | GenerateRequest
    | CompletionRequest
    | TokenizeRequest
    | CancelRequest
    | RequestLogRequest
    | ShutdownRequest
    | BenchRequest
    | UnloadRequest
    | SetStateBudget
)

# ---- events ---------------------------------------------------------------------------


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
