"""Kept KV states in the engine (issue 13, "Instant resume"): saving a conversation's state
after its reply and restoring it when the conversation is continued in another process, after
another conversation or another model.

Engine main thread, except the writing (kv_state_writer.py). The worker tells the keeper which
key a finished request had (`finished`) and, once the engine is idle, asks it to copy the live
cache out (`save_pending`: the only part a request arriving meanwhile could wait for, a
memcpy). A generation asks `restore` before its prefill.

A stored state is used only when its identity equals the loaded model's, its tokens are an
exact prefix of the new prompt and it holds more of the prompt than the live cache does.
Anything else wrong with it (stale, not a prefix, damaged, refused by llama.cpp) costs one log
line and the file: the prompt is then read as if nothing had been kept.

Fixed parts (keys made by state_files.fixed_part_key: a summary's or a translation's
instructions and glossary). Each request of such a key differs after the fixed part (another
chunk, another segment), so its whole state would never start the next prompt. The rule:
the first request of a key keeps its whole state; after a later one, when the kept tokens do
not start the live cache, the live cache is cut back to the longest prefix the two share
(when that is still worth keeping) and only that is kept. After two requests the state is
the fixed part, found without the caller tokenizing anything, whatever the chat template
puts around it; a changed instruction is another key. Once it is on disk, later requests of
the key keep nothing new. A kept state that does not start the prompt is left on disk for
that cut, not deleted.

Why cut the live cache rather than keep the whole state and cut it after loading: on a
model with sliding-window attention (Gemma 3) a loaded state's SWA layers hold only its last
512 positions, so a cut below them gives wrong logits (measured: kv_memory.py); a state
copied from a cache cut back to the fixed part holds exactly what continuing from it needs.
What the cut costs the live cache is the previous request's own chunk and reply, which the
key's next request (another chunk) does not share; the cut happens once the engine is idle
(or before another key's background request), never on a request's path.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process import llama_state
from inference.process.kv_memory import cut_cache
from inference.process.kv_state_file import DamagedStateError, Reply, read_header, read_payload
from inference.process.kv_state_identity import differences, model_identity
from inference.process.kv_state_writer import StateWriter, WriteJob
from inference.process.prompt_tokens import ReplyTokenMemory
from inference.protocol import EngineSettings, KeptState, KeptStates, Priority, Trace
from inference.state_files import (
    StateFiles,
    Writer,
    clamp_budget,
    is_fixed_part_key,
    slot_for,
    write_chunks,
)

log = logging.getLogger(__name__)

# A state shorter than this is never kept: its prefill costs a few decode steps.
MIN_TOKENS = 32
# Replies remembered per key (their sampled ids go into the state's header), and keys.
_REPLIES_PER_KEY = 64
_KEYS = 32
# What loading a state costs, for deciding whether one is worth keeping: a fixed part (open,
# header, llama.cpp's bookkeeping) and reading + hashing + copying its bytes in. Measured on
# the 2-core Xeon with Gemma 3 270M, 4,000 tokens = a 20 MB state: SHA-256 18 ms, read ~5 ms,
# llama_state_seq_set_data 5 ms (~0.7 GB/s in all) against 10 s to prefill those tokens;
# taken at half that speed, so a state is kept only where loading it surely wins. Below
# MIN_TOKENS the prefill (~2 ms a token there) is as fast as opening a file.
LOAD_FIXED_S = 0.004
LOAD_BYTES_PER_S = 0.35e9


@dataclass(frozen=True)
class Restored:
    """What `restore` did: a KeptState value, the tokens loaded and the ms it took."""

    kept_state: str = KeptState.NONE
    tokens: int = 0
    ms: float = 0.0

    def on_trace(self, trace: Trace | None) -> Trace | None:
        """`trace` telling what became of the request's kept state."""
        if trace is None or not self.kept_state:
            return trace
        return replace(
            trace, tokens_restored=self.tokens, restore_ms=self.ms, kept_state=self.kept_state
        )


class KVStateKeeper:
    """The kept states of one loaded model."""

    def __init__(
        self,
        files: StateFiles,
        identity: dict[str, str | int | bool],
        slot: str,
        writer: StateWriter,
    ) -> None:
        self.files = files
        self.identity = identity
        self.slot = slot
        self.writer = writer
        self._pending = ""  # the key of the request whose tokens the live cache holds
        self._prefill_tps = 0.0  # the fastest prefill seen on this model, tokens/s
        # Each key's replies as sampled (text -> ids), kept with its state; keys primed.
        self._replies: OrderedDict[str, OrderedDict[str, list[int]]] = OrderedDict()
        self._primed: set[str] = set()
        # Fixed-part keys: the tokens their file holds, as last read or written; the prompt
        # of each key's latest request and of the one before it (requests of a key often
        # follow each other with no idle time between, so only the last one is saved).
        self._fixed: dict[str, list[int]] = {}
        self._latest: dict[str, list[int]] = {}
        self._earlier: dict[str, list[int]] = {}
        self.copies_ms: list[float] = []  # each save's copy out of llama.cpp (main thread)
        # A state a WarmRequest loaded (its key and what it cost): the key's next request
        # finds it in the live cache and its trace says it was restored ahead.
        self._ahead: tuple[str, Restored] | None = None

    @classmethod
    def for_model(
        cls,
        kept: KeptStates | None,
        settings: EngineSettings,
        n_ctx: int,
        chat_format: str,
        writer: StateWriter,
        file_writer: Writer = write_chunks,
    ) -> KVStateKeeper | None:
        """The keeper for a model just loaded, its states written by `writer`; None when no
        folder was given or the model file's identity cannot be read (nothing is kept then,
        nothing fails). `file_writer`: StateFiles' (tests make the disk full with it)."""
        if kept is None or not kept.folder:
            return None
        try:
            identity = model_identity(
                settings, n_ctx, chat_format, adapter.library_version(), adapter.system_info()
            )
        except OSError as exc:
            log.warning("KV states not kept for %s: %s", settings.model_path, exc)
            return None
        files = StateFiles(Path(kept.folder), kept.budget_bytes, file_writer)
        return cls(files, identity, slot_for(settings.model_path), writer)

    # ---- restoring (before a prefill) ---------------------------------------------------

    def prime(self, key: str, memory: ReplyTokenMemory) -> None:
        """Before the prompt of a request for `key` is built: the replies its kept state
        holds go into `memory`, so the prompt has the ids they were sampled as (the text
        tokenized anew often differs, and the state would not be a prefix). Once per key."""
        if key in self._primed:
            return
        self._primed.add(key)
        try:
            header, _ = read_header(self.files.path_for(key, self.slot))
        except (OSError, DamagedStateError):
            return  # restore() says why, if there is a file at all
        if header.key != key or header.identity != self.identity:
            return
        for text, ids in header.replies:
            memory.remember(text, ids)
            self._remember(key, (text, ids))

    def _remember(self, key: str, reply: Reply) -> None:
        replies = self._replies.setdefault(key, OrderedDict())
        self._replies.move_to_end(key)
        text, ids = reply
        replies[text] = ids
        replies.move_to_end(text)
        while len(replies) > _REPLIES_PER_KEY:
            replies.popitem(last=False)
        while len(self._replies) > _KEYS:
            self._replies.popitem(last=False)

    def restore(self, llm: Llama, key: str, prompt: Sequence[int]) -> Restored:
        """Load the state kept for `key` when it serves `prompt` better than the live cache.
        Never raises: whatever goes wrong, the prompt is read as usual. When a warm of `key`
        put the state in the live cache, says so (RESTORED_AHEAD, with the warm's figures)."""
        ahead, self._ahead = self._ahead, None
        if is_fixed_part_key(key):
            self._earlier[key] = self._latest.get(key, [])
            self._latest[key] = list(prompt)
        restored = self._guarded(llm, key, prompt, drop_unmatched=True)
        if ahead is not None and ahead[0] == key and restored.kept_state == KeptState.LIVE_BETTER:
            return replace(ahead[1], kept_state=KeptState.RESTORED_AHEAD)
        return restored

    def warm(self, llm: Llama, key: str, prompt: Sequence[int]) -> Restored:
        """A conversation was opened (protocol.WarmRequest): load its kept state into the
        live cache now, `prompt` being what the conversation makes before a new user turn.
        A pending state of another key is saved first. A state that does not start `prompt`
        is left for the real request to judge (the shown branch may not be the one the next
        turn continues). Never raises."""
        earlier, self._ahead = self._ahead, None
        if is_fixed_part_key(key):
            return Restored()  # fixed parts are warmed by their own requests
        self.before_use(llm, key, Priority.BACKGROUND)
        restored = self._guarded(llm, key, prompt, drop_unmatched=False)
        if restored.kept_state == KeptState.RESTORED:
            self._ahead = (key, restored)
        elif restored.kept_state == KeptState.LIVE_BETTER and earlier and earlier[0] == key:
            self._ahead = earlier  # a later warm of the same chat (typing): still its restore
        return restored

    def _guarded(
        self, llm: Llama, key: str, prompt: Sequence[int], *, drop_unmatched: bool
    ) -> Restored:
        try:
            return self._restore(llm, key, prompt, drop_unmatched)
        except Exception as exc:  # a bug here must cost a prefill, not the reply
            log.exception("KV state of %s not restored: %s", key, exc)
            adapter.clear_kv_cache(llm)  # it may have been half replaced
            return Restored(KeptState.REFUSED)

    def _restore(
        self, llm: Llama, key: str, prompt: Sequence[int], drop_unmatched: bool = True
    ) -> Restored:
        started = time.perf_counter()
        path = self.files.path_for(key, self.slot)
        try:
            header, tokens = read_header(path)
        except FileNotFoundError:
            return Restored()
        except (OSError, DamagedStateError) as exc:
            return self._drop(key, path, KeptState.DAMAGED, f"damaged: {exc}")
        if header.key != key or header.identity != self.identity:
            changed = differences(header.identity, self.identity) or ["key"]
            return self._drop(key, path, KeptState.STALE, f"stale ({', '.join(changed)} changed)")
        n = len(tokens)
        starts_prompt = n <= len(prompt) and list(prompt[:n]) == tokens
        if is_fixed_part_key(key):
            self._fixed[key] = tokens
            if not starts_prompt and n < llm.n_ctx():
                return Restored(KeptState.NOT_PREFIX)  # kept: the next save cuts it down
        if not starts_prompt and not drop_unmatched:
            return Restored(KeptState.NOT_PREFIX)  # left on disk: a warm only guessed
        if not starts_prompt or n >= llm.n_ctx():
            return self._drop(key, path, KeptState.NOT_PREFIX, "its tokens do not start the prompt")
        live = Llama.longest_token_prefix(adapter.cached_tokens(llm), prompt)
        if live >= n:
            self.files.touch(path)
            return Restored(KeptState.LIVE_BETTER)
        try:
            payload = read_payload(path, header, tokens)
        except (OSError, DamagedStateError) as exc:
            return self._drop(key, path, KeptState.DAMAGED, f"damaged: {exc}")
        if not llama_state.restore_sequence_state(llm, payload, tokens):
            return self._drop(key, path, KeptState.REFUSED, "llama.cpp refused it")
        self.files.touch(path)
        return Restored(KeptState.RESTORED, n, (time.perf_counter() - started) * 1000.0)

    def _drop(self, key: str, path: Path, kept_state: str, why: str) -> Restored:
        log.warning("KV state %s skipped and deleted: %s", path.name, why)
        self.files.remove(path)
        self._fixed.pop(key, None)

        return Restored(kept_state)

    # ---- saving (after a reply) ---------------------------------------------------------

    def finished(
        self, key: str, evaluated: int, prefill_tps: float, reply: Reply | None = None
    ) -> None:
        """A request ended; the live cache now holds its tokens (`key` "": keep nothing) and
        its `reply` as sampled (None: not a whole chat reply). Its prefill speed tells what
        keeping a state saves on this model."""
        self._pending = key
        if key and reply is not None and reply[0] and not is_fixed_part_key(key):
            self._remember(key, reply)  # a fixed part holds no reply
        if evaluated >= MIN_TOKENS:
            self._prefill_tps = max(self._prefill_tps, prefill_tps)

    def before_use(self, llm: Llama, key: str, priority: int) -> None:
        """A generation for `key` is about to change the cache. A pending state of another
        key is copied out first when the newcomer is background work (it can wait a memcpy)
        and given up when a person waits for the newcomer."""
        if self._ahead is not None and self._ahead[0] != key:
            self._ahead = None  # another key's work changes the live cache
        if not self._pending or self._pending == key:
            return
        if priority >= Priority.BACKGROUND:
            self.save_pending(llm)
        else:
            self.forget_pending()

    def set_budget(self, budget_bytes: int) -> int:
        """A new disk budget (protocol.SetStateBudget), applied at once: states saved from
        now on (and those queued for writing: they share these files) keep within it, and
        the least recently used go until the folder fits. Returns how many went."""
        self.files.budget_bytes = clamp_budget(budget_bytes, self.files.folder)
        return self.files.evict()

    def forget_pending(self) -> None:
        """Something else is about to use the cache: the pending state is gone."""
        self._pending = ""

    @property
    def pending(self) -> str:
        return self._pending

    def save_pending(self, llm: Llama) -> None:
        """Copy the live cache out for the pending key and queue it for writing (main
        thread, engine idle). Never raises: a state not kept costs a prefill later."""
        try:
            self._save_pending(llm)
        except Exception as exc:
            log.exception("KV state of %s not kept: %s", self._pending, exc)
            self._pending = ""

    def _save_pending(self, llm: Llama) -> None:
        key, self._pending = self._pending, ""
        tokens = list(adapter.cached_tokens(llm))
        if not key or len(tokens) < MIN_TOKENS or self.files.budget_bytes <= 0:
            return
        if is_fixed_part_key(key):
            tokens = self._fixed_part(llm, key, tokens)
            if not tokens:
                return
        started = time.perf_counter()
        payload = llama_state.copy_sequence_state(llm)
        self.copies_ms.append((time.perf_counter() - started) * 1000.0)
        if not self.worth_keeping(len(tokens), len(payload)):
            return
        path = self.files.path_for(key, self.slot)
        replies = tuple(self._replies.get(key, {}).items())
        job = WriteJob(self.files, path, key, self.identity, tokens, payload, replies)
        self.writer.submit(job)
        if is_fixed_part_key(key):
            self._fixed[key] = tokens

    def _fixed_part(self, llm: Llama, key: str, tokens: list[int]) -> list[int]:
        """The tokens to keep for a fixed-part key whose request left `tokens` in the live
        cache, the cache cut back to them; [] keeps nothing (the module's docstring)."""
        path = self.files.path_for(key, self.slot)
        kept = self._fixed.get(key) or self._kept_tokens(key, path) or []
        if kept and Llama.longest_token_prefix(kept, tokens) == len(kept) and path.exists():
            return []  # the fixed part is on disk already
        earlier = [t for t in (kept, self._earlier.get(key)) if t]
        if not earlier:
            return tokens  # the key's first prompt: the next one tells what they share
        shared = max(Llama.longest_token_prefix(t, tokens) for t in earlier)
        if shared < MIN_TOKENS or not cut_cache(llm, shared):
            return []  # nothing worth keeping is shared, or the cache cannot give it alone
        return tokens[:shared]

    def _kept_tokens(self, key: str, path: Path) -> list[int] | None:
        try:
            header, tokens = read_header(path)
        except (OSError, DamagedStateError):
            return None
        if header.key != key or header.identity != self.identity:
            return None
        self._fixed[key] = tokens
        return tokens

    def worth_keeping(self, n_tokens: int, n_bytes: int) -> bool:
        """Whether loading `n_bytes` would beat reading `n_tokens` again at the fastest
        prefill seen (unknown speed: keep), and the state fits the budget."""
        if n_tokens < MIN_TOKENS or n_bytes > self.files.budget_bytes:
            return False
        if self._prefill_tps <= 0:
            return True
        load_s = LOAD_FIXED_S + n_bytes / LOAD_BYTES_PER_S
        return n_tokens / self._prefill_tps > load_s
