"""Prefill with progress and cancel against one uninterrupted prefill (issue 12), one run.

Run:  .venv/bin/python bench/prefill_progress.py [--model PATH] [--tokens 4000]
                            [--pp-tokens 2048] [--rounds 3] [--threads N]

1. Throughput, in this process, the same loaded model, rounds interleaved (order rotated each
   round). What is timed: wall time from the start of evaluating a PROMPT of --tokens tokens
   into an empty KV cache to the end of its last llama_decode (the cache is cleared before
   each, outside the timing); also this process's CPU time over the same span (all its
   threads: on a shared machine, descheduling inflates wall time but not CPU time).
   The prompt here is --pp-tokens long (each round runs it three times).
   A  one uninterrupted prefill: Llama.eval(prompt) (llama-cpp-python splits it into n_batch
      llama_decode calls itself; nothing in between).
   B  Hearth's prefill loop as the engine runs it (Generation._prefill: n_batch steps, the
      model's first one FIRST_STEP tokens; inside each step llama.cpp's abort callback
      counting graph nodes, a PrefillProgress pickled as for the pipe every 0.25 s and an
      interrupt check every 0.05 s (inference/process/prefill_watch.py); after each step a
      report, an interrupt check, the trace's per-step record).
   Printed: speed ratio B/A (goal >= 0.98), median and min-max over rounds.
2. Cancel delay, through the real engine process: a --tokens completion; once a third of the
   prompt is read, a CancelRequest is sent; timed from sending it to the request's end (Done
   or Error) arriving here. Compared with the step time: the median interval between two
   PrefillProgress events before the cancel (goal: delay within one step, ratio <= ~1), and
   the longest interval between progress events (goal <= 0.5 s). A step no longer bounds the
   delay: the abort callback stops a step part way.
Default model: the built-in Gemma 3 270M (assembled into a temporary folder).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from inference.engine_process import EngineProcess
from inference.protocol import (
    CancelRequest,
    CompletionRequest,
    Done,
    EngineSettings,
    Error,
    Loaded,
    LoadRequest,
    PrefillProgress,
    Sampling,
)

GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=1)
TEXT = (
    "The lighthouse keeper counted the ships that passed each night and wrote their names "
    "in a book that nobody else had ever read. "
)


def prompt_text(llm: object, n_tokens: int) -> tuple[str, list[int]]:
    """A text of about n_tokens tokens and exactly n_tokens ids of it."""
    text = TEXT * (n_tokens // 20 + 2)
    ids = llm.tokenize(text.encode(), add_bos=True)  # type: ignore[attr-defined]
    ids = ids[:n_tokens]
    return llm.detokenize(ids[1:]).decode(errors="ignore"), ids  # type: ignore[attr-defined]


def throughput(
    settings: EngineSettings, n_tokens: int, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    from inference.process import llama_adapter as adapter
    from inference.process.generation import Generation, GenerationRequest

    llm = adapter.load_llama(settings)
    _, prompt = prompt_text(llm, n_tokens)

    def uninterrupted() -> tuple[float, float]:
        llm.reset()
        start, cpu = time.perf_counter(), time.process_time()
        llm.eval(prompt)
        return time.perf_counter() - start, time.process_time() - cpu

    def hearth() -> tuple[float, float]:
        llm.reset()
        spec = GenerationRequest(1, "completion", 10, prompt, 1, GREEDY, ())
        generation = Generation(spec, model=None)
        start, cpu = time.perf_counter(), time.process_time()
        reason, _ = generation._prefill(llm, prompt, 0, pickle.dumps, lambda: None)
        elapsed = time.perf_counter() - start, time.process_time() - cpu
        assert reason is None
        return elapsed

    runs = {"A": uninterrupted, "B": hearth}
    for run in runs.values():  # warm, and let the watch learn the model's node count
        run()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(rounds):
        order = names[round_ % 2 :] + names[: round_ % 2]
        for name in order:
            times[name].append(runs[name]())
        print(
            f"round {round_ + 1}: "
            + ", ".join(f"{n} {n_tokens / times[n][-1][0]:.0f} tok/s" for n in names),
            flush=True,
        )
    llm.close()
    return times


def start_engine(settings: EngineSettings) -> EngineProcess:
    engine = EngineProcess()
    engine.start()
    engine.send(LoadRequest(engine.next_id(), settings))
    while True:
        event = engine.recv(600)
        if isinstance(event, Error):
            raise SystemExit(f"load failed: {event.message}")
        if isinstance(event, Loaded):
            return engine


def cancel_once(engine: EngineProcess, text: str) -> tuple[float, float, float, int]:
    """(cancel delay s, median step interval s, longest progress interval s, request id).
    `text` differs each time: a prompt the cache already holds would need no prefill."""
    request = CompletionRequest(engine.next_id(), text, max_tokens=8, sampling=GREEDY)
    engine.send(request)
    reports: list[float] = []
    cancelled_at: float | None = None
    while True:
        event = engine.recv(600)
        now = time.perf_counter()
        if getattr(event, "id", None) != request.id:
            continue
        if isinstance(event, PrefillProgress):
            reports.append(now)
            if cancelled_at is None and event.done >= event.total // 3:
                engine.send(CancelRequest(engine.next_id(), request.id))
                cancelled_at = time.perf_counter()
        elif isinstance(event, Done | Error):
            if cancelled_at is None:
                raise SystemExit("the prefill ended before the cancel was sent")
            gaps = [b - a for a, b in itertools.pairwise(reports)]
            return now - cancelled_at, statistics.median(gaps), max(gaps), event.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--pp-tokens", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.mkdtemp(prefix="hearth-bench-")))
    settings = EngineSettings(
        model_path=str(model),
        n_ctx=args.tokens + 256,
        n_threads=args.threads,
        n_threads_batch=args.threads,
    )
    print(f"model {model.name}, threads {args.threads}, {args.rounds} rounds")
    times = throughput(settings, args.pp_tokens, args.rounds)

    def ratios(name: str, clock: int) -> list[float]:
        return [a[clock] / x[clock] for a, x in zip(times["A"], times[name], strict=True)]

    for name, what in (("B", "Hearth's prefill loop"),):
        for clock, label in ((0, "wall"), (1, "CPU time")):
            r = ratios(name, clock)
            # Fastest against fastest: the least disturbed run of each on a busy machine.
            best = min(t[clock] for t in times["A"]) / min(t[clock] for t in times[name])
            print(
                f"1. speed {what} / one uninterrupted prefill ({label}): median "
                f"{statistics.median(r):.4f} (rounds {min(r):.4f}-{max(r):.4f}), best/best "
                f"{best:.4f}" + (" goal >= 0.98" if name == "B" else "")
            )

    from inference.process import llama_adapter as adapter

    llm = adapter.load_llama(settings)
    text, _ = prompt_text(llm, args.tokens)
    llm.close()
    engine = start_engine(settings)
    try:
        results = [cancel_once(engine, f"Round {i}. {text}") for i in range(args.rounds)]
    finally:
        engine.stop()
    delays = [d for d, *_ in results]
    steps = [s for _, s, *_ in results]
    longest = max(m for _, _, m, _ in results)
    per_step = [d / s for d, s, *_ in results]
    print(
        f"2. cancel delay: median {statistics.median(delays) * 1000:.0f} ms "
        f"({min(delays) * 1000:.0f}-{max(delays) * 1000:.0f}); progress interval median "
        f"{statistics.median(steps) * 1000:.0f} ms; delay / interval: median "
        f"{statistics.median(per_step):.2f} (max {max(per_step):.2f}) goal <= ~1"
    )
    print(f"   longest interval between progress reports: {longest * 1000:.0f} ms goal <= 500")


if __name__ == "__main__":
    main()
