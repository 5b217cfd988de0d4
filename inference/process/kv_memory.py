"""What the live KV memory holds, and cutting it back to a prefix (issue 13).

Why a check before reusing a prefix: on a model with sliding-window attention (Gemma 3:
512 positions) the SWA layers of a state restored from disk hold only the last window of
its positions (llama.cpp prunes the rest while loading it). Removing the tail of such a
cache and continuing from position n then attends to nothing the window needed below the
first position it still holds: measured on Gemma 3 270M, a state of 1,228 tokens restored
and cut at 1,200 / 1,000 / 400 gave last-token logits off by 1.1 / 2.2 / 8.4 against a full
prefill (the same prompt). llama-server makes the same check ("forcing full prompt
re-processing due to lack of cache data (likely due to SWA ...)"). Engine main thread.
"""

from __future__ import annotations

from llama_cpp import Llama
from llama_cpp import llama_cpp as llama_lib


def holds_prefix(llm: Llama, n: int) -> bool:
    """Whether the cache, cut back to its first `n` positions, holds all a continuation from
    position `n` attends to: its oldest position is within the sliding window (any layer)
    before `n`. A cache without SWA layers always does unless llama.cpp dropped its start."""
    memory = llama_lib.llama_get_memory(llm._ctx.ctx)
    oldest = int(llama_lib.llama_memory_seq_pos_min(memory, 0))
    window = max(1, int(llama_lib.llama_model_n_swa(llm.model)))
    return oldest <= max(0, n - window)


def cut_cache(llm: Llama, n: int) -> bool:
    """Keep only the first `n` positions of the live cache (the rest is forgotten), as if
    the prompt had been those `n` tokens. False, with the cache unchanged, when it cannot
    serve a continuation from `n` (holds_prefix) or llama.cpp cannot remove a tail."""
    if n <= 0 or n > llm.n_tokens or not holds_prefix(llm, n):
        return False
    if n == llm.n_tokens:
        return True
    if not llm._ctx.kv_cache_seq_rm(-1, n, -1):
        return False
    llm.n_tokens = n
    llm._requires_eval = True  # the logits are not those of token n - 1
    return True
