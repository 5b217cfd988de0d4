"""What the engine process costs against llama.cpp itself, measured in one run.

Run:  .venv/bin/python bench/engine_overhead.py [--model PATH] [--tokens 2048] [--threads N]
                                               [--sweep-only] [--sweep-threads 1,2,4]

First, against the fastest plain llama-cpp-python on this machine: a plain loop (Llama() with
n_threads set, then generate()) is run for each of a few n_threads values, greedy and with
Hearth's default sampling, and the fastest is the baseline for the engine as Hearth loads
it (its automatic thread counts unless --threads is given):
  0. decode tok/s through the engine / the fastest plain loop, per sampling (goal >= 0.95)
Then, against baselines on the same model, prompt and the engine's own settings:
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
from collections.abc import Iterator
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
HEARTH_SAMPLING = Sampling(seed=1)  # the defaults a chat uses (temperature 0.7, top-p ...)
PROMPT = "Write a long story about a lighthouse keeper who finds a map. Chapter 1:"
CHAT_TOKENS = 512  # same reply length for the engine and create_chat_completion
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


def engine_chat(engine: EngineProcess, n: int) -> tuple[float, int]:
    """Decode tok/s of a chat reply as the GUI process sees it (delta arrival times)."""
    request = GenerateRequest(
        engine.next_id(), (ChatMessage("user", PROMPT),), max_tokens=n, sampling=GREEDY
    )
    engine.send(request)
    events = _engine_events(engine, request.id)
    arrivals = [t for t, e in events if isinstance(e, Delta) and e.n_tokens]
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), len(arrivals)


class InProcess:
    """The baselines: llama-cpp-python in this process, same model and settings."""

    def __init__(self, model: str, n_ctx: int, threads: int | None) -> None:
        from inference.process import llama_adapter as adapter

        self.adapter = adapter
        self.llm = adapter.load_llama(
            EngineSettings(model_path=model, n_ctx=n_ctx, n_threads=threads)
        )
        self.piece = adapter.PieceReader(self.llm)

    def _generate(self, prompt: list[int]) -> Iterator[int]:
        return self.llm.generate(
            prompt, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0
        )

    def ttft_ms(self, text: str) -> float:
        """Cold prompt to first token with generate()."""
        self.llm.reset()
        prompt = self.llm.tokenize(text.encode(), add_bos=True, special=True)
        start = time.perf_counter()
        gen = self._generate(prompt)
        self.piece(next(gen))
        elapsed = (time.perf_counter() - start) * 1000
        gen.close()
        return elapsed

    def raw_long(self, n_tokens: int) -> tuple[float, float]:
        """ms/token over the first and last 10% of a raw generate() loop: llama.cpp's own
        slowdown as the context fills."""
        self.llm.reset()
        prompt = self.llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
        stamps = []
        gen = self._generate(prompt)
        for token in gen:
            self.piece(token)
            stamps.append(time.perf_counter())
            if len(stamps) >= n_tokens:
                break
        gen.close()
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        tenth = max(1, len(gaps) // 10)
        return statistics.mean(gaps[:tenth]) * 1000, statistics.mean(gaps[-tenth:]) * 1000

    def chat_stream_tps(self, n_tokens: int) -> tuple[float, int]:
        """create_chat_completion(stream=True): the high-level API most apps use."""
        self.llm.reset()
        arrivals = []
        stream = self.llm.create_chat_completion(
            messages=[{"role": "user", "content": PROMPT}],
            max_tokens=n_tokens,
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
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), len(arrivals)


def _decode_tps(stamps: list[float]) -> float:
    """Tokens per second after the first token (decode only, prefill left out)."""
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def thread_candidates() -> list[int]:
    """n_threads values for the plain loop: one, llama-cpp-python's own default (half the
    CPUs), the physical cores, and every usable CPU."""
    from inference.process.cpu_threads import physical_cores, usable_cpus

    usable = usable_cpus()
    return sorted({1, max(1, usable // 2), min(physical_cores(), usable), usable})


def plain_decode_tps(
    model: str, n_ctx: int, n_threads: int, samplings: list[Sampling], n_tokens: int, rounds: int
) -> list[float]:
    """Best decode tok/s of a plain llama-cpp-python loop per sampling: Llama() with
    `n_threads` (prefill on every CPU, as llama-cpp-python does by default), generate() over
    the prompt, no Hearth code in the loop. Loaded through the adapter only for the AMX
    weight-buffer workaround that keeps the engine alive on some CPUs (the same weights)."""
    from inference.process import llama_adapter as adapter
    from inference.process.cpu_threads import usable_cpus
    from inference.process.llama_logs import route_native_logs

    route_native_logs()  # llama.cpp's notes on stderr would break the table
    llm = adapter.load_llama(
        EngineSettings(
            model_path=model, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=usable_cpus()
        )
    )
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    best = [0.0] * len(samplings)
    try:
        for _ in range(rounds):
            for i, s in enumerate(samplings):
                llm.reset()
                llm.set_seed(s.seed if s.seed is not None else 1)
                stamps = []
                generator = llm.generate(
                    prompt,
                    temp=s.temperature,
                    top_p=s.top_p,
                    top_k=s.top_k,
                    min_p=s.min_p,
                    repeat_penalty=s.repeat_penalty,
                )
                for _token in generator:
                    stamps.append(time.perf_counter())
                    if len(stamps) >= n_tokens:
                        break
                generator.close()
                best[i] = max(best[i], _decode_tps(stamps))
    finally:
        llm.close()
    return best


def engine_decode_tps(
    engine: EngineProcess, samplings: list[Sampling], n_tokens: int, rounds: int
) -> list[float]:
    """Best decode tok/s seen through the engine process (delta arrival times), per sampling."""
    best = [0.0] * len(samplings)
    for _ in range(rounds):
        for i, s in enumerate(samplings):
            request = CompletionRequest(
                engine.next_id(), PROMPT, max_tokens=n_tokens, sampling=s, ignore_eos=True
            )
            engine.send(request)
            events = _engine_events(engine, request.id)
            stamps = [t for t, e in events if isinstance(e, Delta) and e.n_tokens]
            best[i] = max(best[i], _decode_tps(stamps))
    return best


def sweep(engine: EngineProcess, args: argparse.Namespace, n_ctx: int) -> None:
    """Row 0: the engine as Hearth loads it against the fastest plain loop on this machine."""
    samplings = [GREEDY, HEARTH_SAMPLING]
    names = ["greedy", "Hearth's sampling"]
    candidates = args.sweep_threads or thread_candidates()
    n, rounds = args.sweep_tokens, args.sweep_rounds
    print(f"\nplain llama-cpp-python loop, {n} tokens, best of {rounds} rounds (tok/s):")
    plain: dict[int, list[float]] = {}
    for threads in candidates:
        plain[threads] = plain_decode_tps(str(args.model), n_ctx, threads, samplings, n, rounds)
        rates = ", ".join(f"{name} {r:.1f}" for name, r in zip(names, plain[threads], strict=True))
        print(f"  n_threads={threads:<3} {rates}")
    ours = engine_decode_tps(engine, samplings, n, rounds)
    print(f"\n{'0. decode tok/s, engine / fastest plain loop':<58}  {'values':>16}  ratio  goal")
    for i, name in enumerate(names):
        fastest = max(candidates, key=lambda t: plain[t][i])
        base = plain[fastest][i]
        print(
            f"   {name + f' (plain fastest at n_threads={fastest})':<55}  "
            f"{f'{ours[i]:.1f} / {base:.1f}':>16}  {ours[i] / base:5.3f}  >= 0.95"
        )


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


def _load(engine: EngineProcess, args: argparse.Namespace, n_ctx: int) -> None:
    """Load as Hearth does: automatic thread counts unless --threads is given."""
    settings = EngineSettings(
        model_path=str(args.model),
        n_ctx=n_ctx,
        n_threads=args.threads,
        n_gpu_layers=args.n_gpu_layers,
    )
    engine.send(LoadRequest(engine.next_id(), settings))
    while not isinstance(event := engine.recv(600), Loaded):
        if isinstance(event, Error):
            raise SystemExit(event.message)
    info = event.info
    chosen = "set by --threads" if info.n_threads_user_set else "automatic"
    print(
        f"engine backend: {info.backend}, gpu layers {info.n_gpu_layers}, threads "
        f"{info.n_threads} decode / {info.n_threads_batch} prefill ({chosen})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds for the speed checks")
    parser.add_argument(
        "--chat-tokens",
        type=int,
        default=CHAT_TOKENS,
        help="reply length of the engine vs create_chat_completion comparison",
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--sweep-only", action="store_true", help="only row 0 (the sweep)")
    parser.add_argument(
        "--sweep-threads",
        type=lambda text: sorted({int(t) for t in text.split(",")}),
        default=None,
        help="n_threads values of the plain loop (default: 1, half the CPUs, cores, CPUs)",
    )
    parser.add_argument("--sweep-tokens", type=int, default=256)
    parser.add_argument("--sweep-rounds", type=int, default=2)
    parser.add_argument("--n-gpu-layers", type=int, default=0)
    args = parser.parse_args()
    if args.model is None:
        from app.models.default_model import ensure_default_model

        args.model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-bench-models")
    n_ctx = max(4096, args.tokens + 256, args.chat_tokens + 256)
    print(f"model: {args.model}, n_ctx {n_ctx}")
    if args.sweep_only:
        engine = EngineProcess()
        engine.start()
        try:
            _load(engine, args, n_ctx)
            sweep(engine, args, n_ctx)
        finally:
            engine.stop()
        return 0
    print(f"long reply: {args.tokens} tokens; rows 1-5: engine and in-process runs alternate,")
    print(f"{args.rounds} rounds, medians reported")
    base = InProcess(str(args.model), n_ctx, args.threads)
    engine = EngineProcess()
    engine.start()
    ttft_engine, ttft_base, chat_engine, chat_base = [], [], [], []
    long_engine, long_base = [], []
    try:
        _load(engine, args, n_ctx)
        sweep(engine, args, n_ctx)
        for i in range(5):
            ttft_base.append(base.ttft_ms(f"{i}. {PROMPT}"))
            ttft_engine.append(engine_completion(engine, f"{i}. {PROMPT}", 2)["ttft_ms"])
        for _ in range(args.rounds):
            chat_engine.append(engine_chat(engine, args.chat_tokens))
            chat_base.append(base.chat_stream_tps(args.chat_tokens))
        for _ in range(max(1, args.rounds - 1)):
            long_engine.append(engine_completion(engine, PROMPT, args.tokens))
            long_base.append(base.raw_long(args.tokens))
        _load(engine, args, n_ctx)  # a fresh context for the conversation
        convo = conversation(engine, 10)
    finally:
        engine.stop()

    med = statistics.median
    engine_tps = med(r["client_decode_tps"] for r in long_engine)
    llama_tps = med(r["llama_eval_tps"] for r in long_engine)
    chat_tps, base_tps = med(t for t, _ in chat_engine), med(t for t, _ in chat_base)
    e_first, e_last = (
        med(r["first10_ms"] for r in long_engine),
        med(r["last10_ms"] for r in long_engine),
    )
    b_first, b_last = med(f for f, _ in long_base), med(last for _, last in long_base)
    ttft_e, ttft_b = med(ttft_engine), med(ttft_base)
    rows = [
        (
            "decode tok/s through engine / llama.cpp eval rate",
            f"{engine_tps:.1f} / {llama_tps:.1f}",
            engine_tps / llama_tps,
            ">= 0.95",
        ),
        (
            f"chat decode tok/s, engine / create_chat_completion(stream), {args.chat_tokens} tok",
            f"{chat_tps:.1f} / {base_tps:.1f}",
            chat_tps / base_tps,
            ">= 1.0",
        ),
        (
            f"ms/token last 10% / first 10% of {args.tokens} tokens (engine)",
            f"{e_last:.2f} / {e_first:.2f}",
            e_last / e_first,
            "<= 1.1",
        ),
        (
            "  same, raw in-process generate() (llama.cpp's own slowdown)",
            f"{b_last:.2f} / {b_first:.2f}",
            b_last / b_first,
            "(baseline)",
        ),
        (
            "  last-10% ms/token, engine / raw generate()",
            f"{e_last:.2f} / {b_last:.2f}",
            e_last / b_last,
            "<= 1.1",
        ),
        (
            "TTFT engine - in-process (ms, median of 5)",
            f"{ttft_e:.1f} - {ttft_b:.1f}",
            ttft_e - ttft_b,
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
    print(f"\n{'measure':<{width}}  {'values':>22}  {'ratio':>8}  goal")
    for name, values, ratio, goal in rows:
        print(f"{name:<{width}}  {values:>22}  {ratio:>8.3f}  {goal}")
    print(
        "\nper round (tok/s): engine chat "
        + ", ".join(f"{t:.1f}" for t, _ in chat_engine)
        + " | create_chat_completion "
        + ", ".join(f"{t:.1f}" for t, _ in chat_base)
    )
    print(
        "per round (ms/token first/last 10%): engine "
        + ", ".join(f"{r['first10_ms']:.1f}/{r['last10_ms']:.1f}" for r in long_engine)
        + " | raw "
        + ", ".join(f"{f:.1f}/{last:.1f}" for f, last in long_base)
    )
    print("\nconversation turns (prompt tokens / evaluated / message tokens / TTFT ms):")
    for i, row in enumerate(convo, 1):
        print(
            f"  turn {i:2d}: {row['prompt_tokens']:5d} / {row['evaluated']:4d} / "
            f"{row['message_tokens']:3d} / {row['ttft_ms']:7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
