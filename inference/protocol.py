"""Messages between the GUI/CLI process and the engine process.

Small frozen dataclasses sent over a multiprocessing pipe. Requests go in (this module),
events come out (inference.events, re-exported here so every message is importable from
one place); every message carries the id of the request it belongs to. Kept free of
llama_cpp and Qt so both sides (and the CLI) can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from inference.events import WARM_BUSY as WARM_BUSY
from inference.events import WARM_SUPERSEDED as WARM_SUPERSEDED
from inference.events import BenchDone as BenchDone
from inference.events import BenchProgress as BenchProgress
from inference.events import Delta as Delta
from inference.events import Done as Done
from inference.events import Error as Error
from inference.events import ErrorKind as ErrorKind
from inference.events import Event as Event
from inference.events import GenerationStats as GenerationStats
from inference.events import Loaded as Loaded
from inference.events import LoadProgress as LoadProgress
from inference.events import MemoryUse as MemoryUse
from inference.events import ModelInfo as ModelInfo
from inference.events import Preempted as Preempted
from inference.events import PrefillProgress as PrefillProgress
from inference.events import RequestLogReport as RequestLogReport
from inference.events import RequestRecord as RequestRecord
from inference.events import ServerFigures as ServerFigures
from inference.events import Started as Started
from inference.events import StateBudgetSet as StateBudgetSet
from inference.events import Tokenized as Tokenized
from inference.events import Unloaded as Unloaded
from inference.events import Warmed as Warmed
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


@dataclass(frozen=True)
class WarmRequest:
    """Restore the kept KV state of a conversation the user just opened, so the live cache
    holds it before they press Enter (issue 13). `messages`: the conversation as shown
    (the branch the next turn continues, ending with the last reply, no new user turn);
    `state_key`: the key its replies use. Answered with Warmed. Skipped (never disturbing
    anything) when a generation is paused or a newer WarmRequest waits; a no-op when the
    live cache serves the conversation already or nothing is kept for it.

    `typing`: the user's unsent text in the chat's input box (reading ahead while typing):
    after any restore, the engine reads the next user turn's opening and the tokens of this
    text into the live cache, at most TYPE_AHEAD_MOST new tokens a warm, so Enter pays only
    for what changed since (the last word, the turn's closing). Works without a kept state
    and for a new chat (`messages` empty or only a system prompt, `state_key` "")."""

    id: int
    messages: tuple[ChatMessage, ...]
    state_key: str
    priority: Priority = Priority.BACKGROUND
    typing: str = ""


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
    | WarmRequest
)
