"""What recording a request's trace costs (issue 12), measured in one run.

Run:  .venv/bin/python bench/trace_overhead.py [--model PATH] [--tokens 256] [--rounds 8]
                                              [--threads N]

Two engine processes with the same model and settings, one recording traces (the default)
and one started with HEARTH_TRACE=0 (inference/process/trace_recorder.py); the same greedy
completion (ignore_eos, so every reply has exactly --tokens tokens) alternates between them,
ABBA order per round so neither always runs first. Printed:
  1. decode tok/s with traces / without (goal >= 0.99): medians over the rounds of the
     engine's own decode speed (GenerationStats.decode_tps: tokens after the first over first
     to last token, the per-token recording inside that interval), with the spread
     (min-max of the per-round ratios), the ratio of the best rounds (on a busy machine the
     least disturbed ones), and the median ratio from the delta arrival times seen here.
  1b. the same loop in this process (inference/process/generation.py's Generation, no pipe),
     timed by this thread's CPU time (time.thread_time; one llama.cpp thread, so the decode
     runs on it): CPU ms per token without / with recording, which a busy machine's
     descheduling does not inflate the way it does wall time.
  2. bytes per token of the packed per-token times (goal <= 8), and of the whole pickled
     Trace as it crosses the pipe, per token.
  3. the recording's own cost per token, timed in isolation (the statements the token loop
     adds), as a fraction of the median token time: a bound free of run-to-run noise.
Default model: the built-in Gemma 3 270M (assembled into a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.engine_process import EngineProcess
from inference.protocol import (
    CompletionRequest,
    Delta,
    Done,
    EngineSettings,
    Error,
    Loaded,
    LoadRequest,
    Sampling,
)

GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=1)
PROMPT = "Write a long story about a lighthouse keeper who finds a map. Chapter 1:"


def start_engine(settings: EngineSettings, recording: bool) -> EngineProcess:
    """An engine process; HEARTH_TRACE is read by the child when it imports the recorder."""
    previous = os.environ.get("HEARTH_TRACE")
    os.environ["HEARTH_TRACE"] = "1" if recording else "0"
    try:
        engine = EngineProcess()
        engine.start()
    finally:
        if previous is None:
            os.environ.pop("HEARTH_TRACE", None)
        else:
            os.environ["HEARTH_TRACE"] = previous
    request = LoadRequest(engine.next_id(), settings)
    engine.send(request)
    while True:
        event = engine.recv(600)
        if isinstance(event, Error):
            raise SystemExit(f"load failed: {event.message}")
        if isinstance(event, Loaded):
            return engine


def one_reply(engine: EngineProcess, n_tokens: int) -> tuple[Done, float]:
    """The reply and its decode tok/s from delta arrivals here (after the first token)."""
    request = CompletionRequest(
        engine.next_id(), PROMPT, max_tokens=n_tokens, sampling=GREEDY, ignore_eos=True
    )
    engine.send(request)
    arrivals: list[float] = []
    while True:
        event = engine.recv(600)
        if getattr(event, "id", None) != request.id:
            continue
        if isinstance(event, Delta) and event.n_tokens:
            arrivals.append(time.perf_counter())
        elif isinstance(event, Error):
            raise SystemExit(f"engine error: {event.message}")
        elif isinstance(event, Done):
            seen = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0
            return event, seen


def in_process_ratio(settings: EngineSettings, n_tokens: int, rounds: int) -> list[float]:
    """Per round (ABBA): CPU seconds per token without recording / with (speed with / without)."""
    from inference.process import llama_adapter as adapter
    from inference.process.generation import Generation, GenerationRequest
    from inference.process.trace_recorder import TraceRecorder

    llm = adapter.load_llama(settings)
    piece = adapter.PieceReader(llm)
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)

    def cpu_per_token(recording: bool) -> float:
        spec = GenerationRequest(1, "completion", 10, prompt, n_tokens, GREEDY, (), True)
        generation = Generation(spec, model=None)
        generation.timeline = TraceRecorder(recording=recording)
        start = time.thread_time()
        generation.run(llm, piece, lambda _event: None, lambda: None)
        return (time.thread_time() - start) / len(generation.ids)

    cpu_per_token(True)  # warm
    ratios = []
    for round_ in range(rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        cost = {recording: cpu_per_token(recording) for recording in order}
        ratios.append(cost[False] / cost[True])
    llm.close()
    return ratios


def recording_cost_s() -> float:
    """Seconds per token of what the token loop adds when recording: the branch, the
    subtraction and the append of one float to the array (timed on its own)."""
    setup = "from array import array; gaps = array('f'); now = 2.0; last = 1.0"
    stmt = "if gaps is not None:\n    gaps.append((now - last) * 1000.0)"
    n = 200_000
    best = min(timeit.repeat(stmt, setup, number=n, repeat=5))
    return best / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.mkdtemp(prefix="hearth-bench-")))
    settings = EngineSettings(
        model_path=str(model), n_ctx=2048, n_threads=args.threads, n_threads_batch=args.threads
    )
    with_trace = start_engine(settings, recording=True)
    without = start_engine(settings, recording=False)
    try:
        one_reply(with_trace, 16)  # warm both: first-call costs are not the question
        one_reply(without, 16)
        engine_ratios: list[float] = []
        seen_ratios: list[float] = []
        rates: dict[bool, list[float]] = {True: [], False: []}
        traces: list[Done] = []
        for round_ in range(args.rounds):
            order = (True, False) if round_ % 2 == 0 else (False, True)
            result: dict[bool, tuple[Done, float]] = {}
            for recording in order:
                result[recording] = one_reply(with_trace if recording else without, args.tokens)
            (done_on, seen_on), (done_off, seen_off) = result[True], result[False]
            assert done_on.trace is not None and done_off.trace is None
            traces.append(done_on)
            rates[True].append(done_on.stats.decode_tps)
            rates[False].append(done_off.stats.decode_tps)
            engine_ratios.append(done_on.stats.decode_tps / done_off.stats.decode_tps)
            seen_ratios.append(seen_on / seen_off)
            print(
                f"round {round_ + 1}: with {done_on.stats.decode_tps:.1f} tok/s, "
                f"without {done_off.stats.decode_tps:.1f} tok/s, "
                f"ratio {engine_ratios[-1]:.4f}",
                flush=True,
            )
    finally:
        with_trace.stop()
        without.stop()

    cpu_ratios = in_process_ratio(settings, args.tokens, args.rounds)
    ratio = statistics.median(rates[True]) / statistics.median(rates[False])
    print(f"\nmodel: {model.name}, {args.tokens} tokens a reply, {args.rounds} rounds (ABBA)")
    print(
        f"1. decode tok/s with traces / without: {ratio:.4f} "
        f"(median {statistics.median(rates[True]):.1f} / {statistics.median(rates[False]):.1f}; "
        f"per-round ratios {min(engine_ratios):.4f}-{max(engine_ratios):.4f}, "
        f"median {statistics.median(engine_ratios):.4f}) goal >= 0.99"
    )
    best = max(rates[True]) / max(rates[False])
    print(f"   best round with / best round without (least disturbed): {best:.4f}")
    print(
        f"   seen from here (delta arrivals): median ratio {statistics.median(seen_ratios):.4f} "
        f"(per round {min(seen_ratios):.4f}-{max(seen_ratios):.4f})"
    )
    print(
        f"1b. in this process, CPU time per token without / with: median "
        f"{statistics.median(cpu_ratios):.4f} (per round {min(cpu_ratios):.4f}-"
        f"{max(cpu_ratios):.4f}) goal >= 0.99"
    )
    last = traces[-1]
    assert last.trace is not None
    n = len(last.trace.token_ms)
    packed = len(last.trace.token_gaps) / n
    pickled = len(pickle.dumps(last.trace)) / last.stats.completion_tokens
    print(f"2. packed per-token times: {packed:.2f} bytes/token (goal <= 8); ", end="")
    print(f"whole Trace pickled: {pickled:.2f} bytes/token over {n + 1} tokens")
    cost = recording_cost_s()
    token_s = 1.0 / statistics.median(rates[False])
    print(
        f"3. recording alone: {cost * 1e9:.0f} ns/token = {cost / token_s * 100:.4f} % of a "
        f"{token_s * 1000:.2f} ms token"
    )


if __name__ == "__main__":
    main()
