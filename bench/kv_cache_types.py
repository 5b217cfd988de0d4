"""KV cache q8_0 against f16 on the built-in model (issue 13): the KV cache's memory and the
decode speed at depth 0 and at a deep context, measured in one run, interleaved.

Run:  .venv/bin/python bench/kv_cache_types.py [--model PATH] [--threads 1] [--depth 2048]
                                               [-p 16] [-n 32] [--rounds 5]

Three engine processes hold the model at once, each loaded with one cache setting:
  f16      K and V f16, flash attention on
  q8_0     K and V q8_0, flash attention on (a quantized V needs it)
  f16-nofa K and V f16, flash attention off (for reference; Hearth's default is auto)
Each round runs, one engine after the other (never two at the same time, the order rotated
each round), one `hearth bench` repetition (SyncEngine.bench, the path `hearth bench` takes)
at depth 0 and one at `--depth`.

Figures, each with one definition:
- KV memory: llama.cpp's own "KV buffer size" lines summed at load
  (inference.process.llama_logs.memory_from_logs, ModelInfo.memory.kv_ram + kv_vram), next
  to the fit estimate's (app.models.fit.estimate_memory(...).kv_bytes) for the same types.
- decode speed, tokens/s: n_gen ÷ BenchDone.tg_ms, the engine's wall clock from before the
  first generated token's llama_decode to after the last one's, at the given depth (the
  depth's tokens are in the cache and untimed, as llama-bench's -d).
Printed: each figure's mean ± sample standard deviation over the rounds, and the ratios
q8_0 / f16 (same flash attention): memory, and decode speed at each depth as the ratio of
the means and the median and range of the per-round ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.models.fit import estimate_memory
from app.models.gguf_layout import read_layout
from inference.protocol import EngineSettings, ModelInfo
from inference.sync_client import SyncEngine

MIB = 1 << 20
CONFIGS = {  # name: (type_k, type_v, flash_attn)
    "f16": ("f16", "f16", True),
    "q8_0": ("q8_0", "q8_0", True),
    "f16-nofa": ("f16", "f16", False),
}


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):8.2f} ± {sd:5.2f}"


def _ratio(label: str, ours: list[float], base: list[float]) -> str:
    per_round = [a / b for a, b in zip(ours, base, strict=True)]
    return (
        f"{label}: {statistics.fmean(ours) / statistics.fmean(base):.3f} (ratio of means; "
        f"per round median {statistics.median(per_round):.3f}, "
        f"range {min(per_round):.3f}-{max(per_round):.3f})"
    )


def _kv(info: ModelInfo) -> int:
    return info.memory.kv_ram + info.memory.kv_vram


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--depth", type=int, default=2048)
    parser.add_argument("-p", "--n-prompt", type=int, default=16)
    parser.add_argument("-n", "--n-gen", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-bench-models")
    n_ctx = args.depth + args.n_prompt + args.n_gen + 64
    layout = read_layout(Path(model))
    print(
        f"model {Path(model).name}, {args.threads} threads, n_ctx {n_ctx}, "
        f"pp{args.n_prompt} tg{args.n_gen} at depth 0 and {args.depth}, {args.rounds} rounds",
        flush=True,
    )
    engines: dict[str, SyncEngine] = {}
    kv: dict[str, int] = {}
    speeds: dict[tuple[str, int], list[float]] = {}
    depths = (0, args.depth)
    try:
        for name, (type_k, type_v, flash) in CONFIGS.items():
            settings = EngineSettings(
                model_path=str(model), n_ctx=n_ctx, n_threads=args.threads,
                n_threads_batch=args.threads, flash_attn=flash, type_k=type_k, type_v=type_v,
            )  # fmt: skip
            engine = engines[name] = SyncEngine.start(settings)
            assert engine.info is not None
            kv[name] = _kv(engine.info)
            estimate = estimate_memory(
                layout, n_ctx, 0, flash_attn=flash, type_k=type_k, type_v=type_v
            ).kv_bytes
            print(
                f"{name:9s} KV cache: llama.cpp {kv[name] / MIB:7.2f} MiB, "
                f"fit estimate {estimate / MIB:7.2f} MiB",
                flush=True,
            )
            engine.bench(min(32, args.n_prompt), 1, 0)  # warm-up, as hearth bench does
        names = list(CONFIGS)
        for round_no in range(args.rounds):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                for depth in depths:
                    done = engines[name].bench(args.n_prompt, args.n_gen, depth, seed=round_no)
                    speeds.setdefault((name, depth), []).append(args.n_gen / (done.tg_ms / 1000))
            line = ", ".join(
                f"{name}@d{depth} {speeds[(name, depth)][-1]:.1f}"
                for name in names
                for depth in depths
            )
            print(f"round {round_no + 1}: decode tok/s {line}", flush=True)
    finally:
        for engine in engines.values():
            engine.close()
    print("\ndecode speed, tokens/s (mean ± sd over rounds):")
    for name in CONFIGS:
        for depth in depths:
            print(f"  {name:9s} depth {depth:5d}: {_mean_sd(speeds[(name, depth)])}")
    print("\nq8_0 against f16 (both with flash attention):")
    saved = (kv["f16"] - kv["q8_0"]) / MIB
    print(
        f"  KV memory q8_0 / f16: {kv['q8_0'] / kv['f16']:.3f} "
        f"({saved:.2f} MiB saved of {kv['f16'] / MIB:.2f} MiB)"
    )
    for depth in depths:
        q8, f16 = speeds[("q8_0", depth)], speeds[("f16", depth)]
        print("  " + _ratio(f"decode q8_0 / f16 at depth {depth}", q8, f16))
    for depth in depths:
        on, off = speeds[("f16", depth)], speeds[("f16-nofa", depth)]
        print("  " + _ratio(f"decode f16 flash on / off at depth {depth}", on, off))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
