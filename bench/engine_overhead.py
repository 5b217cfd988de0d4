"""What the engine process costs against llama.cpp itself, measured in one run.

Run:  .venv/bin/python bench/engine_overhead.py [--model PATH] [--tokens 2048] [--threads N]

Prints ratios against baselines taken in the same run, on the same model, prompt and settings:
  1. decode tok/s seen through the engine process / llama.cpp's own eval rate (goal >= 0.95)
  2. decode tok/s through the engine / in-process create_chat_completion(stream=True) (goal >= 1.0)
  3. ms/token over the last 10% of a long reply / the first 10% (goal <= 1.1)
  4. extra time to first token of the engine process over in-process generate() (goal <= 15 ms)
  5. turn 10 of a conversation: prompt tokens evaluated vs the new message's tokens (goal <= +8),
     and TTFT of turn 10 / turn 2 (goal <= 1.3)
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.engine_process import EngineProcess
from inference.protocol import (
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    EngineSettings,
    Error,
    GenerateRequest,
    Loaded,
    LoadRequest,
    Sampling,
    Tokenized,
    TokenizeRequest,
)

GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=1)
PROMPT = "Write a long story about a lighthouse keeper who finds a map. Chapter 1:"
QUESTIONS = [
    "What is the capital of France?",
    "Name three colours of the rainbow.",
    "How many legs does a spider have?",
    "What do bees make?",
    "Which planet is known as the red planet?",
    "What is water made of?",
    "Who wrote Romeo and Juliet?",
    "What is the boiling point of water?",
    "How many days are in a week?",
    "What is the largest ocean?",
]


def _engine_events(engine: EngineProcess, request_id: int) -> list[tuple[float, object]]:
    out: list[tuple[float, object]] = []
    while True:
        event = engine.recv(600)
        now = time.perf_counter()
        if getattr(event, "id", None) != request_id:
            continue
        out.append((now, event))
        if isinstance(event, Done | Error | Loaded | Tokenized):
            if isinstance(event, Error):
                raise SystemExit(f"engine error: {event.message}")
            return out


def engine_completion(engine: EngineProcess, prompt: str, n: int) -> dict[str, float]:
    request = CompletionRequest(
        engine.next_id(), prompt, max_tokens=n, sampling=GREEDY, ignore_eos=True
    )
    sent = time.perf_counter()
    engine.send(request)
    events = _engine_events(engine, request.id)
    arrivals = [t for t, e in events if isinstance(e, Delta) and e.n_tokens]
    done = events[-1][1]
    assert isinstance(done, Done)
    perf = done.perf
    assert perf is not None
    tokens = done.stats.completion_tokens
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    tenth = max(1, len(gaps) // 10)
    return {
        "tokens": tokens,
        "ttft_ms": (arrivals[0] - sent) * 1000 if arrivals else float("nan"),
        "client_decode_tps": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]),
        "llama_eval_tps": perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else 0.0,
        "first10_ms": statistics.mean(gaps[:tenth]) * 1000,
        "last10_ms": statistics.mean(gaps[-tenth:]) * 1000,
    }


def in_process(model: str, n_ctx: int, threads: int | None, n_tokens: int) -> dict[str, float]:
    from llama_cpp import Llama

    from inference import llama_adapter as adapter

    llm = adapter.load_llama(EngineSettings(model_path=model, n_ctx=n_ctx, n_threads=threads))
    result: dict[str, float] = {}

    # TTFT of generate() on a cold prompt, the same prompts the engine gets.
    ttfts = []
    for i in range(5):
        llm.reset()
        prompt = llm.tokenize(f"{i}. {PROMPT}".encode(), add_bos=True, special=True)
        start = time.perf_counter()
        gen = llm.generate(prompt, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
        adapter.PieceReader(llm)(next(gen))
        ttfts.append((time.perf_counter() - start) * 1000)
        gen.close()
    result["ttft_ms"] = statistics.median(ttfts)

    # create_chat_completion(stream=True): the high-level API most apps use.
    llm.reset()
    adapter.reset_perf(llm)
    arrivals = []
    stream = llm.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=min(n_tokens, 512),
        temperature=0.0,
        top_k=1,
        top_p=1.0,
        min_p=0.0,
        repeat_penalty=1.0,
        stream=True,
    )
    for chunk in stream:
        if chunk["choices"][0]["delta"].get("content"):
            arrivals.append(time.perf_counter())
    result["chat_stream_tokens"] = len(arrivals)
    result["chat_stream_tps"] = (
        (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    )
    del Llama
    llm.close()
    return result


def conversation(engine: EngineProcess, turns: int) -> list[dict[str, float]]:
    history: list[ChatMessage] = []
    rows = []
    for question in QUESTIONS[:turns]:
        count = TokenizeRequest(engine.next_id(), question)
        engine.send(count)
        counted = _engine_events(engine, count.id)[-1][1]
        assert isinstance(counted, Tokenized)
        history.append(ChatMessage("user", question))
        request = GenerateRequest(engine.next_id(), tuple(history), max_tokens=48, sampling=GREEDY)
        time.sleep(0.3)  # the user reads and types; the engine warms the next turn meanwhile
        sent = time.perf_counter()
        engine.send(request)
        events = _engine_events(engine, request.id)
        done = events[-1][1]
        assert isinstance(done, Done)
        first = next((t for t, e in events if isinstance(e, Delta)), events[-1][0])
        history.append(ChatMessage("assistant", done.text))
        rows.append(
            {
                "prompt_tokens": done.stats.prompt_tokens,
                "evaluated": done.stats.prompt_tokens_evaluated,
                "message_tokens": counted.n_tokens,
                "ttft_ms": (first - sent) * 1000,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--n-gpu-layers", type=int, default=0)
    args = parser.parse_args()
    if args.model is None:
        from app.default_model import ensure_default_model

        args.model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-bench-models")
    n_ctx = max(4096, args.tokens + 256)
    print(f"model: {args.model}\nreply length: {args.tokens} tokens, n_ctx {n_ctx}\n")

    base = in_process(str(args.model), n_ctx, args.threads, args.tokens)

    engine = EngineProcess()
    engine.start()
    try:
        engine.send(
            LoadRequest(
                engine.next_id(),
                EngineSettings(
                    model_path=str(args.model),
                    n_ctx=n_ctx,
                    n_threads=args.threads,
                    n_gpu_layers=args.n_gpu_layers,
                ),
            )
        )
        while not isinstance(loaded := engine.recv(600), Loaded):
            if isinstance(loaded, Error):
                raise SystemExit(loaded.message)
        print(f"backend: {loaded.info.backend}, gpu layers {loaded.info.n_gpu_layers}\n")
        ttfts = [engine_completion(engine, f"{i}. {PROMPT}", 2)["ttft_ms"] for i in range(5)]
        long = engine_completion(engine, PROMPT, args.tokens)
        engine.send(
            LoadRequest(
                engine.next_id(),
                EngineSettings(
                    model_path=str(args.model),
                    n_ctx=n_ctx,
                    n_threads=args.threads,
                    n_gpu_layers=args.n_gpu_layers,
                ),
            )
        )
        while not isinstance(engine.recv(600), Loaded):
            pass
        convo = conversation(engine, 10)
    finally:
        engine.stop()

    ttft_engine = statistics.median(ttfts)
    rows = [
        (
            "decode tok/s through engine / llama.cpp eval rate",
            f"{long['client_decode_tps']:.1f} / {long['llama_eval_tps']:.1f}",
            long["client_decode_tps"] / long["llama_eval_tps"],
            ">= 0.95",
        ),
        (
            "decode tok/s through engine / create_chat_completion(stream)",
            f"{long['client_decode_tps']:.1f} / {base['chat_stream_tps']:.1f}",
            long["client_decode_tps"] / base["chat_stream_tps"],
            ">= 1.0",
        ),
        (
            f"ms/token last 10% / first 10% of {long['tokens']:.0f} tokens",
            f"{long['last10_ms']:.2f} / {long['first10_ms']:.2f}",
            long["last10_ms"] / long["first10_ms"],
            "<= 1.1",
        ),
        (
            "TTFT engine - in-process (ms, median of 5)",
            f"{ttft_engine:.1f} - {base['ttft_ms']:.1f}",
            ttft_engine - base["ttft_ms"],
            "<= 15",
        ),
        (
            "turn 10: evaluated - new message tokens",
            f"{convo[-1]['evaluated']} - {convo[-1]['message_tokens']}",
            convo[-1]["evaluated"] - convo[-1]["message_tokens"],
            "<= 8",
        ),
        (
            "turn 10 TTFT / turn 2 TTFT",
            f"{convo[-1]['ttft_ms']:.1f} / {convo[1]['ttft_ms']:.1f}",
            convo[-1]["ttft_ms"] / convo[1]["ttft_ms"],
            "<= 1.3",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'values':>22}  {'ratio':>8}  goal")
    for name, values, ratio, goal in rows:
        print(f"{name:<{width}}  {values:>22}  {ratio:>8.3f}  {goal}")
    print("\nconversation turns (prompt tokens / evaluated / message tokens / TTFT ms):")
    for i, row in enumerate(convo, 1):
        print(
            f"  turn {i:2d}: {row['prompt_tokens']:5d} / {row['evaluated']:4d} / "
            f"{row['message_tokens']:3d} / {row['ttft_ms']:7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
