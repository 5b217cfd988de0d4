"""Flash attention on against off (issue 13): prefill speed, decode speed and memory, on one
model, measured in one run, interleaved. What Hearth's default (auto) was decided on.

Run:  .venv/bin/python bench/flash_attention.py [--model PATH] [--threads 1] [--depth 2048]
                                                [-p 512] [-n 128] [--rounds 5]

Two engine processes hold the model at once, one loaded with flash attention on, one off (K
and V f16 in both). Each round runs, one engine after the other (never two at the same time,
the order alternating each round), one `hearth bench` repetition (SyncEngine.bench, the path
`hearth bench` takes) at depth 0 and one at `--depth`.

Figures, each with one definition:
- prefill speed, tokens/s: n_prompt ÷ BenchDone.pp_ms, the engine's wall clock from before
  the first prompt batch's llama_decode to after the last one's llama_synchronize, at the
  given depth (the depth's tokens are in the cache and untimed, as llama-bench's -d).
- decode speed, tokens/s: n_gen ÷ BenchDone.tg_ms, from before the first generated token's
  llama_decode to after the last one's, at the given depth.
- memory: llama.cpp's own buffer lines summed at load (ModelInfo.memory): the KV cache
  (kv_ram + kv_vram) and the compute buffers (compute_ram + compute_vram; without flash
  attention they hold the attention scores, n_head · n_ctx · n_ubatch floats).
Printed: each speed's median and range over the rounds, and on / off as the ratio of the
medians with the median and range of the per-round ratios (each round's on and off ran back
to back, so a busy moment of the shared machine hits both).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.protocol import BenchDone, EngineSettings, ModelInfo
from inference.sync_client import SyncEngine

MIB = 1 << 20
CONFIGS = {"on": "on", "off": "off"}  # name: EngineSettings.flash_attn


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):8.1f} (range {min(values):.1f}-{max(values):.1f})"


def _ratio(label: str, ours: list[float], base: list[float]) -> str:
    per_round = [a / b for a, b in zip(ours, base, strict=True)]
    return (
        f"{label}: {statistics.median(ours) / statistics.median(base):.3f} (ratio of medians; "
        f"per round median {statistics.median(per_round):.3f}, "
        f"range {min(per_round):.3f}-{max(per_round):.3f})"
    )


def _memory(info: ModelInfo) -> tuple[int, int]:
    memory = info.memory
    assert memory is not None
    return memory.kv_ram + memory.kv_vram, memory.compute_ram + memory.compute_vram


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--depth", type=int, default=2048)
    parser.add_argument("-p", "--n-prompt", type=int, default=512)
    parser.add_argument("-n", "--n-gen", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-bench-models")
    n_ctx = args.depth + args.n_prompt + args.n_gen + 64
    print(
        f"model {Path(model).name}, {args.threads} threads, n_ctx {n_ctx}, "
        f"pp{args.n_prompt} tg{args.n_gen} at depth 0 and {args.depth}, {args.rounds} rounds",
        flush=True,
    )
    engines: dict[str, SyncEngine] = {}
    prefill: dict[tuple[str, int], list[float]] = {}
    decode: dict[tuple[str, int], list[float]] = {}
    depths = (0, args.depth)
    try:
        for name, flash in CONFIGS.items():
            settings = EngineSettings(
                model_path=str(model), n_ctx=n_ctx, n_threads=args.threads,
                n_threads_batch=args.threads, flash_attn=flash,
            )  # fmt: skip
            engine = engines[name] = SyncEngine.start(settings)
            assert engine.info is not None
            kv, compute = _memory(engine.info)
            print(
                f"flash {name:3s}: resolved {engine.info.flash_attn!r}, KV cache {kv / MIB:7.2f} "
                f"MiB, compute buffers {compute / MIB:7.2f} MiB",
                flush=True,
            )
            engine.bench(min(32, args.n_prompt), 1, 0)  # warm-up, as hearth bench does
        names = list(CONFIGS)
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else names[::-1]
            for depth in depths:
                for name in order:
                    done: BenchDone = engines[name].bench(
                        args.n_prompt, args.n_gen, depth, seed=round_no
                    )
                    prefill.setdefault((name, depth), []).append(
                        args.n_prompt / (done.pp_ms / 1000)
                    )
                    decode.setdefault((name, depth), []).append(args.n_gen / (done.tg_ms / 1000))
            line = ", ".join(
                f"{name}@d{depth} pp {prefill[(name, depth)][-1]:.0f} "
                f"tg {decode[(name, depth)][-1]:.1f}"
                for depth in depths
                for name in names
            )
            print(f"round {round_no + 1}: tok/s {line}", flush=True)
    finally:
        for engine in engines.values():
            engine.close()
    print("\ntokens/s over rounds:")
    for depth in depths:
        for name in CONFIGS:
            print(f"  flash {name:3s} depth {depth:5d} prefill {_spread(prefill[(name, depth)])}")
            print(f"  flash {name:3s} depth {depth:5d} decode  {_spread(decode[(name, depth)])}")
    print("\nflash attention on / off:")
    for depth in depths:
        on, off = prefill[("on", depth)], prefill[("off", depth)]
        print("  " + _ratio(f"prefill at depth {depth}", on, off))
        on, off = decode[("on", depth)], decode[("off", depth)]
        print("  " + _ratio(f"decode at depth {depth}", on, off))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
