"""The benchmark dialog's words: a progress line for each runner step, the memory note for a
model the chat has not loaded, and the summary of what a run measured."""

from __future__ import annotations

from collections.abc import Sequence

from app.models.bench import BenchStep
from app.models.bench_threads import Spread, ThreadsFound
from app.models.fit import MemoryEstimate, human_bytes
from storage.bench import BenchResultRecord

_PHASES = {
    "depth": "filling the context",
    "prompt": "reading the prompt (pp)",
    "gen": "generating (tg)",
}


def step_text(step: BenchStep) -> tuple[str, float | None]:
    """The status line and the run's fraction done (None: not known, e.g. while loading).
    The fraction counts repetitions of all configurations, each phase inside one by its
    tokens, so the bar moves steadily."""
    where = f"Depth {step.index} of {step.count} · " if step.count > 1 else ""
    if step.phase == "load":
        return f"{where}Loading the model…", None
    if step.phase == "warmup":
        return f"{where}Warming up…", None
    text = f"{where}Repetition {step.repetition} of {step.repetitions} · "
    text += _PHASES.get(step.phase, step.phase)
    if step.total:
        text += f": {step.done:,} of {step.total:,} tokens"
    per_run = max(1, step.count * step.repetitions)
    inside = _inside(step)
    done = (step.index - 1) * step.repetitions + max(0, step.repetition - 1) + inside
    return text, done / per_run


def _inside(step: BenchStep) -> float:
    """How far into one repetition: the depth phase is untimed and counted as nothing, the
    prompt as the first half, generation as the second."""
    part = step.done / step.total if step.total else 0.0
    if step.phase == "prompt":
        return 0.5 * part
    if step.phase == "gen":
        return 0.5 + 0.5 * part
    return 0.0


def memory_note(estimate: MemoryEstimate | None) -> str:
    """What a run on an engine of its own costs, in the words of the fit estimate."""
    start = (
        "The chat has another model loaded: the benchmark loads this one a second time, in "
        "an engine of its own, and closes it when the run ends"
    )
    if estimate is None:
        return start + "."
    cost = f"about {human_bytes(estimate.ram_bytes)} of RAM"
    if estimate.vram_bytes > 0:
        cost += f" and {human_bytes(estimate.vram_bytes)} of GPU memory"
    return f"{start}: {cost} more while it runs (the fit estimate at the deepest depth)."


def summary(records: Sequence[BenchResultRecord], stopped: bool) -> str:
    """One line per measured configuration, llama-bench's figures with their spread."""
    lines = []
    for record in records:
        if record.error:
            lines.append(f"depth {record.depth:,}: {record.error}")
            continue
        parts = [f"depth {record.depth:,}:"]
        figures = []
        if record.pp_tps is not None:
            figures.append(f"pp{record.n_prompt} {_figure(record.pp_tps, record.pp_tps_sd)}")
        if record.tg_tps is not None:
            figures.append(f"tg{record.n_gen} {_figure(record.tg_tps, record.tg_tps_sd)}")
        parts.append(" · ".join(figures))
        lines.append(" ".join(parts) + f" ({record.repetitions} runs)")
    if stopped:
        lines.append("Stopped; what was measured is stored." if records else "Stopped.")
    return "\n".join(lines) if lines else "Nothing was measured."


def _figure(mean: float, sd: float | None) -> str:
    """Tokens/s to a tenth below 100, whole above (a tenth of 20,000 says nothing)."""
    digits = 1 if mean < 100 else 0
    spread = f" ± {sd:,.{digits}f}" if sd is not None else ""
    return f"{mean:,.{digits}f}{spread} t/s"


def threads_step_text(step: BenchStep, candidates: Sequence[int]) -> tuple[str, float]:
    """The thread search's status line and fraction done: `step.index` is the count's place
    among `candidates`, `step.repetition` the round (app/models/bench_threads.py)."""
    threads = candidates[step.index - 1] if 0 < step.index <= len(candidates) else step.index
    text = f"{threads} threads · round {step.repetition} of {step.repetitions} · "
    text += "loading the model…" if step.phase == "load" else _PHASES.get(step.phase, step.phase)
    if step.total and step.phase != "load":
        text += f": {step.done:,} of {step.total:,} tokens"
    count = max(1, step.count)
    done = (max(1, step.repetition) - 1) * count + step.index - 1 + _inside(step)
    return text, done / max(1, count * step.repetitions)


def threads_summary(found: ThreadsFound) -> str:
    """The thread search for the dialog: one line per count (prompt and reply t/s, mean ±
    sd), then each phase's verdict."""
    lines = []
    for trial in found.trials:
        if trial.error:
            lines.append(f"{trial.threads} threads: {trial.error}")
            continue
        pp = _figure(*_spread(trial.pp_tps)) if trial.pp_tps else "-"
        tg = _figure(*_spread(trial.tg_tps)) if trial.tg_tps else "-"
        lines.append(f"{trial.threads} threads: prompts {pp} · replies {tg}")
    lines += [p.text() for p in (found.decode, found.prefill) if p is not None]
    if found.stopped:
        lines.append("Stopped; nothing to keep.")
    elif not found.worth_keeping:
        lines.append("No clear winner, keeping the current setting.")
    return "\n".join(lines)


def _spread(values: Sequence[float]) -> tuple[float, float]:
    spread = Spread.of(values)
    return spread.mean, spread.sd
