"""`hearth bench`'s generation speed against llama.cpp's own and a plain llama-cpp-python loop,
measured in one run, interleaved.

Run:  .venv/bin/python bench/hearth_bench_vs_llama.py [--model PATH] [--threads 2]
                                                      [-p 128] [-n 64] [--rounds 5]

Each round runs, one after the other (never at the same time):
  A. one `hearth bench` repetition through the engine process (SyncEngine.bench, the path
     `hearth bench` takes): tg_tps = n_gen ÷ the engine's wall-clock generation time
     (inference.protocol.BenchDone.tg_ms), and llama.cpp's eval rate for the same decodes
     (n_eval ÷ t_eval_ms from llama_perf_context);
  B. a plain llama-cpp-python loop in this process: the model loaded with the same settings
     (inference.process.llama_adapter.load_llama: same threads, batch, and the same AMX
     choice), `Llama.generate` over a prompt, greedy, n_gen + 1 tokens; its speed is n_gen ÷
     the time from the first token to the last (the first token's time is the prompt's).
Printed: each figure's mean ± sample standard deviation over the rounds, and
  1. tg_tps / llama.cpp's eval rate, same runs           (goal >= 0.95)
  2. tg_tps / the plain generate loop, same thread count (goal >= 0.95)
each as the ratio of the means and the median of the per-round ratios.

Generation in A feeds random tokens (llama-bench's method) while B samples greedily: B pays
for sampling over the vocabulary, A does not, which is what makes A the model's decode speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine

PROMPT = "Write a long story about a lighthouse keeper who finds a map. Chapter 1:"


def hearth_round(engine: SyncEngine, n_prompt: int, n_gen: int, seed: int) -> tuple[float, float]:
    """(tg_tps by Hearth's wall clock, llama.cpp's eval rate) of one bench repetition."""
    done = engine.bench(n_prompt, n_gen, 0, seed=seed)
    return n_gen / (done.tg_ms / 1000), done.perf.n_eval / (done.perf.t_eval_ms / 1000)


def plain_round(llm: object, prompt: list[int], n_gen: int) -> float:
    """Tokens per second of a plain Llama.generate loop, first token to last."""
    llm.reset()  # type: ignore[attr-defined]
    stamps: list[float] = []
    generator = llm.generate(prompt, temp=0.0, top_k=1, repeat_penalty=1.0)  # type: ignore[attr-defined]
    for _ in generator:
        stamps.append(time.perf_counter())
        if len(stamps) == n_gen + 1:
            break
    generator.close()
    return n_gen / (stamps[-1] - stamps[0])


def _summary(name: str, values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{name:<44} {statistics.fmean(values):9.2f} ± {sd:6.2f} tok/s  ({len(values)} rounds)"


def _ratio(name: str, ours: list[float], theirs: list[float]) -> str:
    of_means = statistics.fmean(ours) / statistics.fmean(theirs)
    per_round = [a / b for a, b in zip(ours, theirs, strict=True)]
    return (
        f"{name:<44} {of_means:6.3f} (median per round {statistics.median(per_round):.3f}, "
        f"range {min(per_round):.3f}-{max(per_round):.3f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="GGUF (default: the built-in Gemma 3 270M)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("-p", "--n-prompt", type=int, default=128)
    parser.add_argument("-n", "--n-gen", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from inference.process import llama_adapter as adapter  # this process hosts loop B

    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.mkdtemp(prefix="hearth-bench-")))
    n_ctx = args.n_prompt + args.n_gen + 64
    settings = EngineSettings(
        model_path=str(model),
        n_ctx=n_ctx,
        n_threads=args.threads,
        n_threads_batch=args.threads,
    )
    print(
        f"model {model}, {args.threads} threads, pp{args.n_prompt} tg{args.n_gen}, "
        f"{args.rounds} rounds",
        flush=True,
    )
    llm = adapter.load_llama(settings)
    prompt = llm.tokenize(PROMPT.encode("utf-8"), add_bos=True)
    hearth: list[float] = []
    llama: list[float] = []
    plain: list[float] = []
    with SyncEngine.start(settings) as engine:
        hearth_round(engine, min(32, args.n_prompt), 4, 0)  # warm-up, as hearth bench does
        plain_round(llm, prompt, 4)
        for round_no in range(args.rounds):
            # Alternate which goes first, so a drift in machine load hits both alike.
            order = ("hearth", "plain") if round_no % 2 == 0 else ("plain", "hearth")
            for which in order:
                if which == "hearth":
                    ours, theirs = hearth_round(engine, args.n_prompt, args.n_gen, round_no + 1)
                    hearth.append(ours)
                    llama.append(theirs)
                else:
                    plain.append(plain_round(llm, prompt, args.n_gen))
            print(
                f"round {round_no + 1}: hearth bench {hearth[-1]:.2f}, llama.cpp eval "
                f"{llama[-1]:.2f}, plain loop {plain[-1]:.2f} tok/s",
                flush=True,
            )
    llm.close()
    print(_summary("A. hearth bench tg_tps", hearth))
    print(_summary("A. llama.cpp eval rate, same runs", llama))
    print(_summary("B. plain llama-cpp-python generate loop", plain))
    print(_ratio("1. hearth bench / llama.cpp eval (>= 0.95)", hearth, llama))
    print(_ratio("2. hearth bench / plain loop (>= 0.95)", hearth, plain))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
