"""Several rows in one llama_decode, and taking back the rejected ones: what the speculative
decoding loop (inference/process/speculative.py) needs of llama.cpp that Llama.generate cannot
do. Part of the llama adapter: like llama_adapter.py, the only code touching
llama-cpp-python's private attributes for this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from llama_cpp import Llama

from inference.process.flash_attention import flash_attention
from inference.process.llama_adapter import cached_tokens, full_prompt_is_cached

# The decode loop that verifies drafted tokens evaluates several tokens in one llama_decode
# and takes back the rejected ones, which Llama.generate cannot do; these keep Llama's own
# bookkeeping (input_ids, n_tokens, _requires_eval) the way its eval/generate keep it.


def can_take_back(llm: Llama) -> bool:
    """Whether the KV cache can forget a tail (rejected drafts): not in recurrent or hybrid
    models, whose memory llama.cpp cannot cut back to an earlier position."""
    return not (llm._is_recurrent or llm._is_hybrid)


def reply_sampler(llm: Llama, sampled: Sequence[int], **sampling: Any) -> Any:
    """The sampler chain Llama.generate makes for these settings (same seed, same RNG), with
    the tail of `sampled` in its repeat-penalty window, as `generate` primes it."""
    sampler = llm._init_sampler(**sampling)
    for token in sampled[-llm.last_n_tokens_size :]:
        sampler.accept(token)
    return sampler


def evaluate_prompt(llm: Llama, tokens: Sequence[int]) -> None:
    """Leave `tokens` in the KV cache with the last one's logits live, as Llama.generate does
    before its first sample: nothing when that is already so, else evaluate what follows the
    longest cached prefix (the last token again when all of it is cached)."""
    if full_prompt_is_cached(llm, tokens):
        return
    common = Llama.longest_token_prefix(cached_tokens(llm), tokens)
    reuse = common - 1 if common == len(tokens) else common
    if reuse > 0 and llm._ctx.kv_cache_seq_rm(-1, reuse, -1):
        llm.n_tokens = reuse
    else:
        llm.reset()
        reuse = 0
    llm.eval(tokens[reuse:])


def sample_row(llm: Llama, sampler: Any, row: int) -> int:
    """Sample with the reply's sampler from the logits of the last decode's `row` (-1: the
    last); llama.cpp's sampler also accepts the token (repeat-penalty window, grammar)."""
    return int(sampler.sample(llm._ctx, row))


def free_rows(llm: Llama) -> int:
    """Tokens that still fit after the cached ones. llama.cpp may pad the context past the
    n_ctx asked for (to 256), but Llama's input_ids has only the n_ctx asked for."""
    return min(len(llm.input_ids), llm.n_ctx()) - llm.n_tokens


def decode_rows(llm: Llama, tokens: Sequence[int]) -> None:
    """One llama_decode of `tokens` after the cached ones, with logits for every row."""
    n_past = llm.n_tokens
    n = len(tokens)
    llm._ctx.kv_cache_seq_rm(-1, n_past, -1)  # a tail left by an earlier step
    llm._batch.set_batch(batch=tokens, n_past=n_past, logits_all=True)
    llm._ctx.decode(llm._batch)
    llm.input_ids[n_past : n_past + n] = tokens
    llm.n_tokens = n_past + n
    llm._requires_eval = False


def keep_cached(llm: Llama, n: int) -> None:
    """Forget the KV cache past its first `n` tokens (the rejected drafts). The live logits
    then belong to a forgotten row, so a later generate evaluates the last token again."""
    if n < llm.n_tokens:
        llm._ctx.kv_cache_seq_rm(-1, n, -1)
        llm.n_tokens = n
        llm._requires_eval = True


def flash_attention_on(llm: Llama) -> bool:
    """Whether the context runs flash attention. Without it, llama.cpp's CPU attention over
    several query rows rounds differently from one row (measured here: logits off by up to
    0.9 on Gemma 3 270M, 0.04 on a q8_0 llama, from 3 rows on), so verified drafts could tip
    a greedy near-tie away from what plain decoding picks. With it the attention is exact;
    on Gemma's Q4_K weights the matrix products still round differently from 8 rows on
    (speculative.py's module doc, bench/verification_rows.py)."""
    return flash_attention(llm) == "on"  # as llama.cpp resolved it (auto too)


def catch_up(llm: Llama, tokens: Sequence[int], stop: Callable[[], bool] | None = None) -> bool:
    """Leave exactly `tokens` in the KV cache, the last one's logits live: keep the longest
    cached prefix (less the last token, whose logits must be fresh), forget the rest (a draft
    model's guesses the main model rejected), evaluate what follows. Unlike evaluate_prompt it
    never trusts a cache of the same length: a draft model's cache holds its own guesses.

    What follows is evaluated n_batch tokens at a time with `stop()` asked between two of them
    (a draft model's first catch-up reads the whole prompt: Stop must not wait for all of it).
    Returns False when `stop()` said True: the cache then holds the prefix read so far, which
    the next call keeps."""
    common = Llama.longest_token_prefix(cached_tokens(llm), tokens)
    keep = min(common, len(tokens) - 1)
    if keep > 0 and llm._ctx.kv_cache_seq_rm(-1, keep, -1):
        llm.n_tokens = keep
    else:
        llm.reset()  # eval then forgets the whole cache
        keep = 0
    rest = tokens[keep:]
    step = max(1, int(llm.n_batch))
    for start in range(0, len(rest), step):
        if start and stop is not None and stop():
            return False
        llm.eval(rest[start : start + step])  # one llama_decode, as eval does per n_batch
    return True


def greedy_token(llm: Llama) -> int:
    """The most likely next token after the last decode's last row (a draft model's guess:
    plain argmax, no sampler, as the main model verifies it anyway)."""
    logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
    return int(logits.argmax())


def free_rows_after(llm: Llama, n_tokens: int) -> int:
    """Tokens that still fit after the first `n_tokens` (see free_rows)."""
    return min(len(llm.input_ids), llm.n_ctx()) - n_tokens
