""" "Why is this slow?" (issue 12): plain sentences drawn from facts Hearth has about one reply
and this machine, each said only when it applies and with the numbers behind it.

Facts in, sentences out: `SlownessFacts` holds plain values (the engine's Trace and what the
caller knows of the model and the machine; any of them may be unknown: None), and
`slowness_sentences` returns the sentences, most important first. No Qt, no I/O: the timing
view and the Performance page both call it, from any thread.

Each check's threshold and minimum of data is a named constant here, so a sentence is never
drawn from a handful of tokens (the pattern of ui/chat/stats_format.MIN_PREFILL_TOKENS).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from app.chat.timing import cache_miss_sentence
from inference.protocol import Trace

# A cache miss is worth a sentence when the prompt read again was at least this long: a few
# dozen tokens take milliseconds even on a CPU.
MIN_MISSED_TOKENS = 64
# Swapped in during the reply, bytes: below this it is the OS's routine paging.
MIN_SWAP_IN_BYTES = 16 << 20
# "Got slower as it went on": tokens after the first needed, and how much slower the last
# quarter's median gap must be than the first quarter's (medians: one stall does not count).
MIN_GAPS_FOR_TREND = 64
SLOWER_RATIO = 1.25
# Decode slowing with context depth, across earlier replies of the same model: replies
# needed, the span of context depths they must cover, and the slowdown at this reply's depth
# (against an empty context) worth a sentence.
MIN_DEPTH_REPLIES = 5
MIN_DEPTH_SPAN = 1024
DEPTH_SLOWDOWN = 0.15


def human_bytes(n: int) -> str:
    """Binary units, as memory is sold and as llama.cpp reports it (app.models.fit words sizes
    the same way; app.chat may not import app.models)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@dataclass(frozen=True)
class SlownessFacts:
    """What is known about one reply and the machine it ran on; None: not known.

    - `trace`: the engine's record of the reply (per-token gaps, cache miss, prompt tokens).
    - `gpu_name` / `gpu_vram_bytes`: a GPU this machine has (app.models.machine; None: none
      found). `gpu_offload_supported`: whether the installed llama.cpp can use a GPU at all.
    - `gpu_layers` / `n_layers`: layers llama.cpp really put on the GPU, of the model's
      `n_layers` blocks (llama.cpp counts n_layers + 1 with the output head, and so do the
      sentences). `vram_for_all_bytes`: how much more VRAM putting every layer on the GPU
      takes than the layers on it now (app.models.fit.extra_vram_for_all_layers).
    - `n_threads` / `physical_cores`: decode threads llama.cpp used, physical CPU cores.
    - `swap_in_bytes`: bytes the machine read back from swap during the reply.
    - `depth_points`: earlier replies of the same model as (context depth at the start of
      the reply, decode tokens/s), for the slope of decode speed against context depth.
    """

    trace: Trace | None = None
    gpu_name: str | None = None
    gpu_vram_bytes: int | None = None
    gpu_offload_supported: bool | None = None
    gpu_layers: int | None = None
    n_layers: int | None = None
    vram_for_all_bytes: int | None = None
    n_threads: int | None = None
    physical_cores: int | None = None
    swap_in_bytes: int | None = None
    depth_points: Sequence[tuple[int, float]] = ()


def slowness_sentences(facts: SlownessFacts) -> list[str]:
    """The sentences that apply, most likely cause of slowness first."""
    checks = (
        cpu_only_build,
        partial_offload,
        swapping,
        too_many_threads,
        cache_invalidated,
        slower_with_depth,
        slower_as_it_went,
    )
    return [sentence for check in checks if (sentence := check(facts)) is not None]


def cpu_only_build(facts: SlownessFacts) -> str | None:
    """A llama.cpp without GPU support on a machine that has a GPU."""
    if facts.gpu_offload_supported is not False or facts.gpu_name is None:
        return None
    vram = f" with {human_bytes(facts.gpu_vram_bytes)}" if facts.gpu_vram_bytes else ""
    return (
        f"This llama.cpp was built for the CPU only, but this computer has a GPU "
        f"({facts.gpu_name}{vram}): every layer ran on the CPU. A llama-cpp-python build with "
        "GPU support (CUDA, Metal, Vulkan) would use it."
    )


def partial_offload(facts: SlownessFacts) -> str | None:
    """Some layers on the CPU although llama.cpp could use this machine's GPU."""
    if not facts.gpu_offload_supported or facts.gpu_name is None:
        return None
    if facts.gpu_layers is None or not facts.n_layers:
        return None
    total = facts.n_layers + 1  # llama.cpp counts the output head as a layer
    if facts.gpu_layers >= total:
        return None
    on_cpu = total - facts.gpu_layers
    start = (
        f"Only {facts.gpu_layers} of {total} layers ran on the GPU; the other {on_cpu} ran on "
        "the CPU, which is much slower."
        if facts.gpu_layers
        else f"None of the model's {total} layers ran on the GPU ({facts.gpu_name})."
    )
    if facts.vram_for_all_bytes is not None and facts.vram_for_all_bytes > 0:
        start += (
            f" About {human_bytes(facts.vram_for_all_bytes)} more free VRAM would put all "
            f"{total} on the GPU (a smaller context or a smaller quantization needs less)."
        )
    return start


def swapping(facts: SlownessFacts) -> str | None:
    swapped = facts.swap_in_bytes
    if swapped is None or swapped < MIN_SWAP_IN_BYTES:
        return None
    return (
        f"The computer was swapping during this reply: {human_bytes(swapped)} were read back "
        "from disk, and the model waits whenever its memory is there. Closing other programs, "
        "a smaller context or a smaller model keeps it in RAM."
    )


def too_many_threads(facts: SlownessFacts) -> str | None:
    threads, cores = facts.n_threads, facts.physical_cores
    if not threads or not cores or threads <= cores:
        return None
    return (
        f"The model wrote with {threads} threads on {cores} physical CPU cores: threads beyond "
        f"one per core wait for each other and usually make decoding slower. {cores} threads "
        "(or Automatic, on the Models page) should be faster."
    )


def cache_invalidated(facts: SlownessFacts) -> str | None:
    """The prompt read (again) because the cache could not be reused, and by what."""
    trace = facts.trace
    if trace is None or trace.cache_miss is None:
        return None
    evaluated = trace.tokens_evaluated + trace.tokens_reevaluated
    if evaluated < MIN_MISSED_TOKENS:
        return None
    reused = f" ({trace.tokens_reused:,} reused)" if trace.tokens_reused else ""
    return (
        f"{cache_miss_sentence(trace.cache_miss)} Reading {evaluated:,} prompt tokens"
        f"{reused} took {trace.prefill_ms / 1000:.1f} s before the first token."
    )


def depth_slope(points: Sequence[tuple[int, float]]) -> tuple[float, float] | None:
    """Least-squares line of milliseconds per decoded token (1000 ÷ decode tokens/s) against
    context depth at the start of a reply: (ms per token at depth 0, ms added per token of
    depth). None with fewer than MIN_DEPTH_REPLIES replies or depths spanning less than
    MIN_DEPTH_SPAN tokens."""
    usable = [(float(d), 1000.0 / tps) for d, tps in points if tps > 0 and d >= 0]
    if len(usable) < MIN_DEPTH_REPLIES:
        return None
    depths = [d for d, _ in usable]
    if max(depths) - min(depths) < MIN_DEPTH_SPAN:
        return None
    slope, intercept = statistics.linear_regression(depths, [ms for _, ms in usable])
    return intercept, slope


def slower_with_depth(facts: SlownessFacts) -> str | None:
    """Decode speed falling as the context fills, measured across earlier replies."""
    trace = facts.trace
    fit = depth_slope(facts.depth_points)
    if trace is None or fit is None:
        return None
    at_zero, slope = fit
    depth = trace.tokens_reused + trace.tokens_evaluated
    if at_zero <= 0 or slope <= 0 or slope * depth < DEPTH_SLOWDOWN * at_zero:
        return None
    depths = [d for d, _ in facts.depth_points]
    return (
        f"Decoding slows as the context fills: each token takes about {slope * 1000:.2f} ms "
        f"longer per 1,000 tokens of context (measured over {len(depths)} replies of this "
        f"model at depths {min(depths):,} to {max(depths):,}). At this reply's "
        f"{depth:,} tokens that is {slope * depth / at_zero:.0%} slower than with an empty "
        "context; a new chat starts empty."
    )


def quarter_medians(gaps: Sequence[float]) -> tuple[float, float] | None:
    """Median gap between tokens in the first and in the last quarter of a reply; None with
    fewer than MIN_GAPS_FOR_TREND gaps."""
    if len(gaps) < MIN_GAPS_FOR_TREND:
        return None
    quarter = len(gaps) // 4
    return statistics.median(gaps[:quarter]), statistics.median(gaps[-quarter:])


def slower_as_it_went(facts: SlownessFacts) -> str | None:
    """Tokens coming markedly slower at the end of the reply than at its start (heat, another
    program, a growing context)."""
    if facts.trace is None:
        return None
    medians = quarter_medians(facts.trace.token_ms)
    if medians is None:
        return None
    first, last = medians
    if first <= 0 or last < SLOWER_RATIO * first:
        return None
    return (
        f"The reply got slower as it went on: a token took {last:.1f} ms in its last quarter "
        f"against {first:.1f} ms in its first ({last / first - 1:.0%} slower). A hot CPU or "
        "GPU slowing itself down, or another program taking the machine, looks like this."
    )
