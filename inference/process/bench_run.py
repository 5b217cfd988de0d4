"""One llama-bench-style repetition on the loaded model (engine process, main thread).

What llama-bench does, through the same llama-cpp-python calls a chat uses (Llama.eval,
n_batch tokens per llama_decode), so the figures are the engine's own speed:

1. clear the KV cache;
2. evaluate `depth` tokens, untimed (the context a long chat would already hold);
3. time the prompt: `n_prompt` tokens in n_batch-sized steps, as a chat prefill runs;
4. time generation: `n_gen` tokens, one llama_decode per token, never stopping at an end token.

Every token is a random id from the model's vocabulary without its control tokens, from a
generator seeded by the request. Generation feeds random ids rather than sampling the logits,
as llama-bench does: the figure is then the model's decode speed on this machine alone, the
one llama-bench and llama.cpp's eval counter report, not the sampler's cost (a chat reply's
own stats carry that), and a greedy choice would not change the work per token anyway.

After each step llama_synchronize waits for the decode, so the wall clock and llama.cpp's
counters see the same work (llama.cpp books a decode in its counters only there). Between
steps a cancel ends the run and a waiting chat turn makes it give way (ErrorKind
BENCH_PREEMPTED: a paused run's figures would be wrong, so the caller repeats it).
"""

from __future__ import annotations

import random
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.protocol import BenchDone, BenchProgress, BenchRequest, Error, ErrorKind

# What `interrupt` returns to end the run.
STOP_CANCELLED = "cancelled"
STOP_PREEMPTED = "preempted"

_GEN_PROGRESS_S = 0.25  # progress events while generating: a few a second, not one a token

_plain_ids: weakref.WeakKeyDictionary[Llama, list[int]] = weakref.WeakKeyDictionary()


class _Stopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_bench(
    llm: Llama,
    request: BenchRequest,
    send: Callable[[Any], None],
    interrupt: Callable[[], str | None],
) -> None:
    """Run one repetition and answer with BenchDone, or with one Error (bad sizes, cancelled,
    preempted, a failed decode). Leaves the KV cache empty: what it held is meaningless."""
    problem = _check(llm, request)
    if problem:
        send(Error(request.id, ErrorKind.BAD_REQUEST, problem))
        return
    rng = random.Random(request.seed)
    ids = _plain_ids.get(llm)
    if ids is None:
        ids = _plain_ids[llm] = adapter.plain_token_ids(llm)
    step = max(1, int(llm.n_batch))
    adapter.clear_kv_cache(llm)
    try:
        context = [rng.choice(ids) for _ in range(request.depth)]
        _prefill(llm, context, step, "depth", request.id, send, interrupt)
        adapter.reset_perf(llm)
        prompt = [rng.choice(ids) for _ in range(request.n_prompt)]
        t0 = time.perf_counter()
        pp_s = _prefill(llm, prompt, step, "prompt", request.id, send, interrupt) - t0
        tg_s = _generate(llm, ids, rng, request, send, interrupt)
        perf = adapter.read_perf(llm)
    except _Stopped as stopped:
        send(_stop_error(request.id, stopped.reason))
        return
    except RuntimeError as exc:  # llama_decode refused a batch (out of memory, ...)
        send(Error(request.id, ErrorKind.INTERNAL, f"llama.cpp could not evaluate: {exc}"))
        return
    finally:
        adapter.clear_kv_cache(llm)
    done = BenchDone(
        request.id,
        request.n_prompt,
        request.n_gen,
        request.depth,
        pp_ms=pp_s * 1000,
        tg_ms=tg_s * 1000,
        perf=perf,
    )
    send(done)


def _check(llm: Llama, request: BenchRequest) -> str:
    if min(request.n_prompt, request.n_gen, request.depth) < 0:
        return "Token counts must not be negative."
    if request.n_prompt + request.n_gen == 0:
        return "Nothing to measure: both the prompt and the generation are 0 tokens."
    need = request.depth + request.n_prompt + request.n_gen
    if need > llm.n_ctx():
        return (
            f"depth {request.depth} + prompt {request.n_prompt} + generation {request.n_gen} "
            f"= {need} tokens do not fit the loaded context of {llm.n_ctx()} tokens."
        )
    return ""


def _prefill(
    llm: Llama,
    tokens: Sequence[int],
    step: int,
    phase: str,
    request_id: int,
    send: Callable[[Any], None],
    interrupt: Callable[[], str | None],
) -> float:
    """Evaluate `tokens` n_batch per step; returns the perf_counter time right after the last
    step's decode finished (the progress event and cancel check after it are not its work)."""
    t_end = time.perf_counter()
    for start in range(0, len(tokens), step):
        llm.eval(tokens[start : start + step])
        adapter.synchronize(llm)
        t_end = time.perf_counter()
        send(BenchProgress(request_id, phase, min(len(tokens), start + step), len(tokens)))
        reason = interrupt()
        if reason:
            raise _Stopped(reason)
    return t_end


def _generate(
    llm: Llama,
    ids: Sequence[int],
    rng: random.Random,
    request: BenchRequest,
    send: Callable[[Any], None],
    interrupt: Callable[[], str | None],
) -> float:
    """Seconds from before the first token's decode to after the last one's, the loop's own
    work between them (a cancel check per token, a progress event a few times a second)
    included: what Hearth spends per token, which the ratio to llama.cpp's counter shows."""
    tokens = [rng.choice(ids) for _ in range(request.n_gen)]
    t_start = time.perf_counter()
    t_end = reported = t_start
    for done, token in enumerate(tokens, 1):
        llm.eval((token,))
        adapter.synchronize(llm)
        t_end = time.perf_counter()
        # The first token reports too: on a fast machine a whole run can take less than one
        # progress period, and a display (or a chat turn's preemption) needs to see it began.
        if done == 1 or t_end - reported >= _GEN_PROGRESS_S or done == len(tokens):
            reported = t_end
            send(BenchProgress(request.id, "gen", done, len(tokens)))
        reason = interrupt()
        if reason:
            raise _Stopped(reason)
    return t_end - t_start


def _stop_error(request_id: int, reason: str) -> Error:
    if reason == STOP_PREEMPTED:
        return Error(
            request_id,
            ErrorKind.BENCH_PREEMPTED,
            "A chat turn came first; this benchmark repetition must be run again.",
        )
    return Error(request_id, ErrorKind.CANCELLED, "Benchmark cancelled.")
