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
- CPU ms per token (the figure a shared, busy machine leaves meaningful: a run that waits
  for a core is slower by the clock, not in CPU time; with one thread it is the work done):
  the engine process's CPU time (psutil user + system) read as this process receives the
  engine's BenchProgress events. Prefill: from before the request (depth 0) or the depth
  phase's last event, to the prompt phase's last event, ÷ n_prompt. Decode: from the "gen"
  event after the first generated token to the one after the last, ÷ (n_gen - 1). An event
  is read a moment after the engine sent it, a few ms of a multi-second phase.
- memory: llama.cpp's own buffer lines summed at load (ModelInfo.memory): the KV cache
  (kv_ram + kv_vram) and the compute buffers (compute_ram + compute_vram; without flash
  attention they hold the attention scores, n_head · n_ctx · n_ubatch floats).
Printed: each figure's median and range over the rounds, and on / off as the ratio of the
medians with the median and range of the per-round ratios (each round's on and off ran back
to back, so a busy moment of the shared machine hits both). Speed ratios above 1 and CPU
ratios below 1 favour flash attention.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from inference.protocol import BenchDone, BenchProgress, EngineSettings, ModelInfo
from inference.sync_client import SyncEngine

MIB = 1 << 20
CONFIGS = {"on": "on", "off": "off"}  # name: EngineSettings.flash_attn


@dataclass
class _CpuMarks:
    """The engine's CPU seconds at a bench repetition's phase boundaries (see the docstring)."""

    process: psutil.Process
    prompt_start: float = 0.0
    prompt_end: float = 0.0
    gen_first: float = 0.0
    gen_last: float = 0.0

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def on_progress(self, event: BenchProgress) -> None:
        if event.done != event.total and not (event.phase == "gen" and event.done == 1):
            return
        now = self.cpu()
        if event.phase == "depth":
            self.prompt_start = now
        elif event.phase == "prompt":
            self.prompt_end = now
        elif event.done == 1:
            self.gen_first = now
        if event.phase == "gen" and event.done == event.total:
            self.gen_last = now


def _run(
    engine: SyncEngine, n_prompt: int, n_gen: int, depth: int, seed: int
) -> tuple[BenchDone, _CpuMarks]:
    assert engine.pid is not None
    marks = _CpuMarks(psutil.Process(engine.pid))
    marks.prompt_start = marks.cpu()
    done = engine.bench(n_prompt, n_gen, depth, seed=seed, on_progress=marks.on_progress)
    return done, marks


def _spread(values: list[float], digits: int = 1) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"median {mid:8.{digits}f} (range {low:.{digits}f}-{high:.{digits}f})"


def _ratio(label: str, ours: list[float], base: list[float]) -> str:
    if not all(base) or not statistics.median(base):
        return f"{label}: n/a (a baseline figure of 0: runs too short for the clock)"
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
    prefill_cpu: dict[tuple[str, int], list[float]] = {}  # CPU ms per prompt token
    decode_cpu: dict[tuple[str, int], list[float]] = {}  # CPU ms per generated token
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
                    done, marks = _run(engines[name], args.n_prompt, args.n_gen, depth, round_no)
                    prefill_cpu.setdefault((name, depth), []).append(
                        (marks.prompt_end - marks.prompt_start) * 1000 / args.n_prompt
                    )
                    decode_cpu.setdefault((name, depth), []).append(
                        (marks.gen_last - marks.gen_first) * 1000 / (args.n_gen - 1)
                    )
                    prefill.setdefault((name, depth), []).append(
                        args.n_prompt / (done.pp_ms / 1000)
                    )
                    decode.setdefault((name, depth), []).append(args.n_gen / (done.tg_ms / 1000))
            line = ", ".join(
                f"{name}@d{depth} pp {prefill[(name, depth)][-1]:.0f} "
                f"tg {decode[(name, depth)][-1]:.1f} (cpu ms/token pp "
                f"{prefill_cpu[(name, depth)][-1]:.2f} tg {decode_cpu[(name, depth)][-1]:.2f})"
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
    print("\nCPU ms per token over rounds:")
    for depth in depths:
        for name in CONFIGS:
            pp, tg = prefill_cpu[(name, depth)], decode_cpu[(name, depth)]
            print(f"  flash {name:3s} depth {depth:5d} prefill {_spread(pp, 3)}")
            print(f"  flash {name:3s} depth {depth:5d} decode  {_spread(tg, 3)}")
    print("\nflash attention on / off:")
    for depth in depths:
        on, off = prefill[("on", depth)], prefill[("off", depth)]
        print("  " + _ratio(f"prefill at depth {depth}", on, off))
        on, off = decode[("on", depth)], decode[("off", depth)]
        print("  " + _ratio(f"decode at depth {depth}", on, off))
        on, off = prefill_cpu[("on", depth)], prefill_cpu[("off", depth)]
        print("  " + _ratio(f"prefill CPU ms/token at depth {depth}", on, off))
        on, off = decode_cpu[("on", depth)], decode_cpu[("off", depth)]
        print("  " + _ratio(f"decode CPU ms/token at depth {depth}", on, off))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
