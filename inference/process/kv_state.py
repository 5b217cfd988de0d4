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
from inference.process.kv_state_file import DamagedStateError, Reply, read_header, read_payload
from inference.process.kv_state_identity import differences, model_identity
from inference.process.kv_state_writer import StateWriter, WriteJob
from inference.process.prompt_tokens import ReplyTokenMemory
from inference.protocol import EngineSettings, KeptState, KeptStates, Priority, Trace
from inference.state_files import StateFiles, Writer, slot_for, write_chunks

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
        self.copies_ms: list[float] = []  # each save's copy out of llama.cpp (main thread)

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
        Never raises: whatever goes wrong, the prompt is read as usual."""
        try:
            return self._restore(llm, key, prompt)
        except Exception as exc:  # a bug here must cost a prefill, not the reply
            log.exception("KV state of %s not restored: %s", key, exc)
            adapter.clear_kv_cache(llm)  # it may have been half replaced
            return Restored(KeptState.REFUSED)

    def _restore(self, llm: Llama, key: str, prompt: Sequence[int]) -> Restored:
        started = time.perf_counter()
        path = self.files.path_for(key, self.slot)
        try:
            header, tokens = read_header(path)
        except FileNotFoundError:
            return Restored()
        except (OSError, DamagedStateError) as exc:
            return self._drop(path, KeptState.DAMAGED, f"damaged: {exc}")
        if header.key != key or header.identity != self.identity:
            changed = differences(header.identity, self.identity) or ["key"]
            return self._drop(path, KeptState.STALE, f"stale ({', '.join(changed)} changed)")
        n = len(tokens)
        if n > len(prompt) or list(prompt[:n]) != tokens or n >= llm.n_ctx():
            return self._drop(path, KeptState.NOT_PREFIX, "its tokens do not start the prompt")
        live = Llama.longest_token_prefix(adapter.cached_tokens(llm), prompt)
        if live >= n:
            self.files.touch(path)
            return Restored(KeptState.LIVE_BETTER)
        try:
            payload = read_payload(path, header, tokens)
        except (OSError, DamagedStateError) as exc:
            return self._drop(path, KeptState.DAMAGED, f"damaged: {exc}")
        if not adapter.restore_sequence_state(llm, payload, tokens):
            return self._drop(path, KeptState.REFUSED, "llama.cpp refused it")
        self.files.touch(path)
        return Restored(KeptState.RESTORED, n, (time.perf_counter() - started) * 1000.0)

    def _drop(self, path: Path, kept_state: str, why: str) -> Restored:
        log.warning("KV state %s skipped and deleted: %s", path.name, why)
        self.files.remove(path)
        return Restored(kept_state)

    # ---- saving (after a reply) ---------------------------------------------------------

    def finished(
        self, key: str, evaluated: int, prefill_tps: float, reply: Reply | None = None
    ) -> None:
        """A request ended; the live cache now holds its tokens (`key` "": keep nothing) and
        its `reply` as sampled (None: not a whole chat reply). Its prefill speed tells what
        keeping a state saves on this model."""
        self._pending = key
        if key and reply is not None and reply[0]:
            self._remember(key, reply)
        if evaluated >= MIN_TOKENS:
            self._prefill_tps = max(self._prefill_tps, prefill_tps)

    def before_use(self, llm: Llama, key: str, priority: int) -> None:
        """A generation for `key` is about to change the cache. A pending state of another
        key is copied out first when the newcomer is background work (it can wait a memcpy)
        and given up when a person waits for the newcomer."""
        if not self._pending or self._pending == key:
            return
        if priority >= Priority.BACKGROUND:
            self.save_pending(llm)
        else:
            self.forget_pending()

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
        started = time.perf_counter()
        payload = adapter.copy_sequence_state(llm)
        self.copies_ms.append((time.perf_counter() - started) * 1000.0)
        if not self.worth_keeping(len(tokens), len(payload)):
            return
        path = self.files.path_for(key, self.slot)
        replies = tuple(self._replies.get(key, {}).items())
        job = WriteJob(self.files, path, key, self.identity, tokens, payload, replies)
        self.writer.submit(job)

    def worth_keeping(self, n_tokens: int, n_bytes: int) -> bool:
        """Whether loading `n_bytes` would beat reading `n_tokens` again at the fastest
        prefill seen (unknown speed: keep), and the state fits the budget."""
        if n_tokens < MIN_TOKENS or n_bytes > self.files.budget_bytes:
            return False
        if self._prefill_tps <= 0:
            return True
        load_s = LOAD_FIXED_S + n_bytes / LOAD_BYTES_PER_S
        return n_tokens / self._prefill_tps > load_s
