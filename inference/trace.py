"""One request's timeline as the engine process measured it (issue 12), sent with Done.

Every time is in milliseconds on the engine's time.perf_counter, with the request's receipt as
origin: the moment the engine's reader thread has the request off the pipe. Marks (`*_at_ms`)
are times since that origin; phases (`*_ms`) are durations. The phases are disjoint, so
queue + load + template + tokenize + prefill + decode + paused never exceeds `end_at_ms`;
what they leave out (a few statements between phases, the Started event's write to the pipe)
is `unaccounted_ms`.

Per-token times travel packed: one little-endian float32 per token (4 bytes), so a trace is
cheap to send and to store. `phases()` and `from_phases()` map a Trace to and from the flat
JSON-able dict storage keeps beside the packed token times.

Kept free of llama_cpp and Qt (a layer below inference.protocol, which re-exports it).
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# What storage writes in `phases["trace_version"]`; bump when a name changes meaning.
TRACE_VERSION = 1


class MissCode:
    """Why a prompt did not (fully) reuse the KV cache; app.chat.timing has the sentences."""

    FIRST_SINCE_LOAD = "first_since_load"  # nothing evaluated since the model was loaded
    OTHER_MODEL = "other_model"  # first request after another model was replaced by this one
    SYSTEM_CHANGED = "system_changed"  # the system prompt differs (or was added/removed)
    MESSAGE_EDITED = "message_edited"  # an earlier message differs (message_index, role)
    CONTEXT_SHIFTED = "context_shifted"  # messages were left out to fit the context
    OTHER_REQUEST = "other_request"  # another request (a summary...) evaluated in between
    REPLY_RETOKENIZED = "reply_retokenized"  # same texts, but a reply's tokens differ
    PROMPT_CHANGED = "prompt_changed"  # a raw prompt that differs from the last one


class KeptState:
    """What became of a request's kept KV state on disk (issue 13; Trace.kept_state)."""

    NONE = ""  # no state_key, or none kept for it yet
    RESTORED = "restored"  # loaded: tokens_restored tokens came from disk
    LIVE_BETTER = "live_better"  # the live cache already held as much of the prompt
    # Skipped, deleted and logged; the prompt was read as usual:
    STALE = "stale"  # made with another model file, context, cache type, version...
    NOT_PREFIX = "not_prefix"  # its tokens are not where the prompt starts
    DAMAGED = "damaged"  # unreadable header, truncated, or its checksum does not match
    REFUSED = "refused"  # llama.cpp did not accept it
    # Loaded by a WarmRequest before this request came (the chat was opened; issue 13):
    # tokens_restored and restore_ms are that warm's, paid while the user typed.
    RESTORED_AHEAD = "restored_ahead"


@dataclass(frozen=True)
class LlamaPerf:
    """llama.cpp's own counters (llama_perf_context) for the last request."""

    t_p_eval_ms: float
    n_p_eval: int
    t_eval_ms: float
    n_eval: int


@dataclass(frozen=True)
class CacheMiss:
    """What kept the prompt from reusing the cache. `at_token`: prompt tokens reused before the
    first difference; `message_index`/`role`: the first message that differs, as an index into
    the request's messages (-1/"" when not about a message); `other_id`/`other_kind`: the
    request that evaluated in between (OTHER_REQUEST); `dropped`: messages left out to fit."""

    code: str
    at_token: int = 0
    message_index: int = -1
    role: str = ""
    other_id: int = -1
    other_kind: str = ""
    dropped: int = 0


@dataclass(frozen=True)
class RanMeanwhile:
    """A request the engine worked on while this one waited in the queue or was paused:
    its id, kind ("chat", "completion", "load", "tokenize", "request_log"), priority (0
    interactive, 10 background: a document summary or a translation) and the milliseconds
    of this request's waiting it took."""

    id: int
    kind: str
    priority: int
    ms: float


def pack_token_ms(values: array) -> bytes:
    """float32 array ('f') -> little-endian bytes, 4 per token."""
    if sys.byteorder == "big":
        values = array("f", values)
        values.byteswap()
    return values.tobytes()


def unpack_token_ms(packed: bytes) -> tuple[float, ...]:
    values = array("f")
    values.frombytes(packed[: len(packed) - len(packed) % 4])
    if sys.byteorder == "big":
        values.byteswap()
    return tuple(values)


@dataclass(frozen=True)
class Trace:
    """Field definitions (ms; marks since receipt, phases as durations):

    - `started_at_ms`: receipt → the engine's main thread took the request from its queue.
    - `load_ms`: the part of that wait spent loading a model (a load queued before it).
      `queue_ms` (property) is the rest of the wait: other requests ran or finished.
    - `template_ms`: rendering the chat template to text (0 for a raw completion), all
      renderings together (fitting a long chat to the context renders several times).
    - `tokenize_ms`: turning that text into token ids (template glue and each message
      tokenized on its own, replies the engine produced taken from memory).
    - `prefill_ms`: evaluating the prompt: from the start of the generation to the first
      token (for the run that produced it: the first token's sampling included, as in time
      to first token), plus, after a pause, re-evaluating what another request pushed out of
      the cache. `prefill_batches`: each llama_decode of the prompt as (tokens, ms).
    - `first_token_at_ms`: receipt → the first token came out of the sampler (-1: none).
    - `decode_ms`: first token → the end of the token loop, plus after each resume the time
      from its prefill's end to its loop's end.
    - `token_ms` (property; packed in `token_gaps`): the gap before each token after the first,
      the end-of-turn token included: sum(token_ms) is the decode loop's time between tokens.
      With drafting, the tokens one verification step keeps share its time evenly (a step:
      from the previous step's tokens out of the sampler to this step's).
    - `paused_ms`: time paused while preempted by interactive work (pause → resume).
    - `end_at_ms`: receipt → Done built (the last thing before it goes into the pipe).
    - `tokens_reused` / `tokens_evaluated`: prompt tokens taken from the KV cache / evaluated
      at the first run; `tokens_reevaluated`: evaluated again when resuming after pauses.
    - `cache_miss`: why cached tokens were not reused (None when all the cache held was).
    - `ran_meanwhile`: what the engine did while this request waited or was paused.
    - `tokens_restored`: prompt tokens whose KV state was loaded from a kept state on disk
      (issue 13; counted in `tokens_reused` too); `restore_ms`: reading, checking and loading
      that file (part of `prefill_ms`, except for RESTORED_AHEAD: a WarmRequest loaded it before
      this request came, and its restore_ms was not on this request's path); `kept_state`: a
      KeptState value, what became of it.
    - `llama_*`: llama.cpp's own counters (llama_perf_context, summed over runs): prompt eval
      and eval time and counts; Hearth's wall clock minus these is sampling, detokenizing
      and Python between the calls.
    """

    started_at_ms: float
    load_ms: float = 0.0
    template_ms: float = 0.0
    tokenize_ms: float = 0.0
    prefill_ms: float = 0.0
    prefill_batches: tuple[tuple[int, float], ...] = ()
    first_token_at_ms: float = -1.0
    decode_ms: float = 0.0
    token_gaps: bytes = b""
    paused_ms: float = 0.0
    end_at_ms: float = 0.0
    tokens_reused: int = 0
    tokens_evaluated: int = 0
    tokens_reevaluated: int = 0
    cache_miss: CacheMiss | None = None
    ran_meanwhile: tuple[RanMeanwhile, ...] = field(default=())
    llama_prefill_ms: float = 0.0
    llama_prefill_tokens: int = 0
    llama_decode_ms: float = 0.0
    llama_decode_tokens: int = 0
    # The receipt (this trace's origin) as absolute time.perf_counter seconds in the engine
    # process, so the GUI can put its own marks on the same origin (app/chat/trace_record.py).
    # Not stored (meaningless after a restart): 0.0 in a trace rebuilt by from_phases.
    origin_s: float = 0.0
    tokens_restored: int = 0
    restore_ms: float = 0.0
    kept_state: str = ""
    # Speculative decoding (issue 13; inference/process/speculative.py DraftCounts defines
    # them): drafted tokens verified, those accepted, verification steps (decodes carrying
    # drafts) and the tokens the reply kept from them; `drafting` says why the reply drafted
    # or not ("forced on", "pays", "does not pay", ...; "" in traces from before).
    drafted: int = 0
    draft_accepted: int = 0
    draft_steps: int = 0
    draft_step_tokens: int = 0
    drafting: str = ""
    # Which drafter made the drafts: "prompt lookup" or "draft model" ("" when none ran).
    drafter: str = ""
    # The kind of work drafting was measured for (protocol.Work: "chat", "summary", ...;
    # "" in traces from before).
    work: str = ""
    # Read ahead while the user typed (issue 13, WarmRequest.typing): prompt tokens the
    # warms before this request evaluated and it reused (counted in `tokens_reused`), and
    # the time those warms spent reading (before this request came, not on its path).
    tokens_typed_ahead: int = 0
    typed_ahead_ms: float = 0.0

    @property
    def queue_ms(self) -> float:
        """Waiting in the engine's queue behind other work, model loads not counted."""
        return max(0.0, self.started_at_ms - self.load_ms)

    @property
    def token_ms(self) -> tuple[float, ...]:
        return unpack_token_ms(self.token_gaps)

    @property
    def unaccounted_ms(self) -> float:
        """end minus the sum of the phases: the statements between phases (>= 0)."""
        return self.end_at_ms - (
            self.started_at_ms
            + self.template_ms
            + self.tokenize_ms
            + self.prefill_ms
            + self.decode_ms
            + self.paused_ms
        )

    def phases(self) -> dict[str, float | int | str]:
        """Flat JSON-able names for storage (with `token_ms` kept packed beside them)."""
        miss = self.cache_miss
        out: dict[str, float | int | str] = {
            "trace_version": TRACE_VERSION,
            "queue_ms": self.queue_ms,
            "load_ms": self.load_ms,
            "started_at_ms": self.started_at_ms,
            "template_ms": self.template_ms,
            "tokenize_ms": self.tokenize_ms,
            "prefill_ms": self.prefill_ms,
            "prefill_batches": json.dumps([[n, round(ms, 3)] for n, ms in self.prefill_batches]),
            "first_token_at_ms": self.first_token_at_ms,
            "decode_ms": self.decode_ms,
            "paused_ms": self.paused_ms,
            "end_at_ms": self.end_at_ms,
            "tokens_reused": self.tokens_reused,
            "tokens_evaluated": self.tokens_evaluated,
            "tokens_reevaluated": self.tokens_reevaluated,
            "ran_meanwhile": json.dumps(
                [[r.id, r.kind, r.priority, round(r.ms, 3)] for r in self.ran_meanwhile]
            ),
            "llama_prefill_ms": self.llama_prefill_ms,
            "llama_prefill_tokens": self.llama_prefill_tokens,
            "llama_decode_ms": self.llama_decode_ms,
            "llama_decode_tokens": self.llama_decode_tokens,
            "drafted": self.drafted,
            "draft_accepted": self.draft_accepted,
            "draft_steps": self.draft_steps,
            "draft_step_tokens": self.draft_step_tokens,
            "drafting": self.drafting,
            "drafter": self.drafter,
            "work": self.work,
        }
        if self.kept_state:
            out.update(
                kept_state=self.kept_state,
                tokens_restored=self.tokens_restored,
                restore_ms=self.restore_ms,
            )
        if self.tokens_typed_ahead:
            out.update(
                tokens_typed_ahead=self.tokens_typed_ahead, typed_ahead_ms=self.typed_ahead_ms
            )
        if miss is not None:
            out.update(
                cache_miss=miss.code,
                cache_miss_at_token=miss.at_token,
                cache_miss_message_index=miss.message_index,
                cache_miss_role=miss.role,
                cache_miss_other_id=miss.other_id,
                cache_miss_other_kind=miss.other_kind,
                cache_miss_dropped=miss.dropped,
            )
        return out

    @classmethod
    def from_phases(
        cls, phases: Mapping[str, float | int | str], token_ms: Sequence[float] = ()
    ) -> Trace:
        """The Trace `phases()` and `token_ms` were made from. Raises ValueError on a damaged
        record (a caller shows "no timing recorded")."""
        try:
            return _from_phases(phases, token_ms)
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            raise ValueError(f"damaged trace record: {exc}") from exc


def _from_phases(p: Mapping[str, float | int | str], token_ms: Sequence[float]) -> Trace:
    def num(name: str, default: float = 0.0) -> float:
        return float(p.get(name, default))

    def count(name: str, default: int = 0) -> int:
        return int(p.get(name, default))

    miss = None
    if "cache_miss" in p:
        miss = CacheMiss(
            code=str(p["cache_miss"]),
            at_token=count("cache_miss_at_token"),
            message_index=count("cache_miss_message_index", -1),
            role=str(p.get("cache_miss_role", "")),
            other_id=count("cache_miss_other_id", -1),
            other_kind=str(p.get("cache_miss_other_kind", "")),
            dropped=count("cache_miss_dropped"),
        )
    batches = tuple((int(n), float(ms)) for n, ms in json.loads(str(p["prefill_batches"])))
    meanwhile = tuple(
        RanMeanwhile(int(i), str(k), int(pr), float(ms))
        for i, k, pr, ms in json.loads(str(p.get("ran_meanwhile", "[]")))
    )
    return Trace(
        started_at_ms=num("started_at_ms"),
        load_ms=num("load_ms"),
        template_ms=num("template_ms"),
        tokenize_ms=num("tokenize_ms"),
        prefill_ms=num("prefill_ms"),
        prefill_batches=batches,
        first_token_at_ms=num("first_token_at_ms", -1.0),
        decode_ms=num("decode_ms"),
        token_gaps=pack_token_ms(array("f", token_ms)),
        paused_ms=num("paused_ms"),
        end_at_ms=num("end_at_ms"),
        tokens_reused=count("tokens_reused"),
        tokens_evaluated=count("tokens_evaluated"),
        tokens_reevaluated=count("tokens_reevaluated"),
        cache_miss=miss,
        ran_meanwhile=meanwhile,
        llama_prefill_ms=num("llama_prefill_ms"),
        llama_prefill_tokens=count("llama_prefill_tokens"),
        llama_decode_ms=num("llama_decode_ms"),
        llama_decode_tokens=count("llama_decode_tokens"),
        tokens_restored=count("tokens_restored"),
        restore_ms=num("restore_ms"),
        kept_state=str(p.get("kept_state", "")),
        drafted=count("drafted"),
        draft_accepted=count("draft_accepted"),
        draft_steps=count("draft_steps"),
        draft_step_tokens=count("draft_step_tokens"),
        drafting=str(p.get("drafting", "")),
        drafter=str(p.get("drafter", "")),
        tokens_typed_ahead=count("tokens_typed_ahead"),
        typed_ahead_ms=num("typed_ahead_ms"),
        work=str(p.get("work", "")),
    )
