"""Whether to draft (issue 13): measured per model and kind of work, never assumed.

Drafting pays where a decode step costs about the same for one token as for several (a GPU,
or a large model on a CPU, where reading the weights dominates) and the reply copies its
source. It loses where every extra row costs real work: the built-in Gemma 3 270M on a CPU
computes a 262,144-wide output row per drafted token, and llama-cpp-python's own prompt
lookup measured 22 -> 17-19 tokens/s there. So the engine keeps, per loaded model and kind of
work, the decode speed it measured with and without drafting (speculative.ModeTimes: the
trace's per-token gaps split by mode), measures both at first (plain first, so a drafting
reply has a speed to beat and gives up early within the reply when it loses), then drafts
only where drafting was faster. Where it was not, drafting is tried again after 2, 4, 8, ...
replies, at most REPROBE_EVERY apart: one reply that copied little must not switch it off for
good, and a probe costs little (it gives up after JUDGE_AFTER tokens when it loses). Where it
was, plain decoding is measured again every REPROBE_EVERY-th reply (speeds drift: another
program, a longer context). Older replies fade (FADE per reply).

Kept on disk too (draft_memory.py), per model file and kind of work: a restarted engine
starts with what the last one measured instead of measuring again.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from inference.process.draft_memory import DraftMemory, model_key
from inference.process.drafting import PromptLookup
from inference.process.speculative import JUDGE_AFTER, Cutoff, ModeTimes

log = logging.getLogger(__name__)

AUTO, ON, OFF = "auto", "on", "off"
# Measured tokens a speed needs before it is trusted: as many as a reply drafts before it
# may give up, so one probe reply is enough.
MIN_TOKENS = JUDGE_AFTER
MARGIN = 1.02  # drafting must be this much faster to be kept on: same output, less to go wrong
REPROBE_EVERY = 20
FIRST_PROBE_AFTER = 2
FADE = 0.8


@dataclass
class Speed:
    """Decode speed of one mode, tokens/s: per-token gaps' count ÷ their sum, each reply
    weighted FADE times less than the next."""

    tokens: float = 0.0
    seconds: float = 0.0

    def add(self, tokens: int, seconds: float) -> None:
        if tokens <= 0 or seconds <= 0:
            return
        self.tokens = self.tokens * FADE + tokens
        self.seconds = self.seconds * FADE + seconds

    @property
    def tps(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Plan:
    """What one reply does: draft or not, why (for the trace and the request log), and the
    cutoff that may stop drafting within it (None: drafting to the end, or not at all)."""

    draft: bool
    reason: str
    cutoff: Cutoff | None = None


@dataclass
class _Work:
    plain: Speed = field(default_factory=Speed)
    drafting: Speed = field(default_factory=Speed)
    replies: int = 0
    probe_gap: int = FIRST_PROBE_AFTER  # replies between two drafting probes, doubling
    next_probe: int = 0  # the reply count at which drafting is tried again


# The numbers of one kind of work's measurements, as kept on disk (draft_memory.py).
_FIELDS = ("plain_tokens", "plain_s", "drafting_tokens", "drafting_s", "replies")
_SCHEDULE = ("probe_gap", "next_probe")


class DraftSwitch:
    """One loaded model's drafting decisions, per kind of work ("chat", "summary", ...)."""

    def __init__(self) -> None:
        self._works: dict[str, _Work] = {}
        self.changed = False  # measured since the last export (draft_memory saves it)

    def export(self) -> dict[str, dict[str, float]]:
        """Every kind of work's measurements and probe schedule, JSON-able."""
        self.changed = False
        return {
            work: {
                "plain_tokens": s.plain.tokens,
                "plain_s": s.plain.seconds,
                "drafting_tokens": s.drafting.tokens,
                "drafting_s": s.drafting.seconds,
                "replies": s.replies,
                "probe_gap": s.probe_gap,
                "next_probe": s.next_probe,
            }
            for work, s in self._works.items()
        }

    def restore(self, works: object) -> int:
        """Take measurements `export` made (read from disk, so untrusted): an entry that is
        not a mapping of finite non-negative numbers is skipped. Returns how many were
        taken; measurements made here already win."""
        taken = 0
        if not isinstance(works, dict):
            return 0
        for work, raw in works.items():
            numbers = _numbers(raw)
            if not isinstance(work, str) or numbers is None or work in self._works:
                continue
            state = _Work(
                Speed(numbers["plain_tokens"], numbers["plain_s"]),
                Speed(numbers["drafting_tokens"], numbers["drafting_s"]),
                int(numbers["replies"]),
                max(1, min(REPROBE_EVERY, int(numbers["probe_gap"]))),
                int(numbers["next_probe"]),
            )
            self._works[work] = state
            taken += 1
        return taken

    def plan(self, work: str, forced: str = AUTO) -> Plan:
        if forced == ON:
            return Plan(True, "forced on")
        if forced == OFF:
            return Plan(False, "forced off")
        state = self._works.setdefault(work, _Work())
        state.replies += 1
        plain, drafting = state.plain, state.drafting
        if plain.tokens < MIN_TOKENS:
            return Plan(False, "measuring without drafting")
        cutoff = Cutoff(plain.tps)
        if drafting.tokens < MIN_TOKENS:
            return Plan(True, "measuring with drafting", cutoff)
        if drafting.tps >= plain.tps * MARGIN:
            state.probe_gap = FIRST_PROBE_AFTER
            state.next_probe = 0
            if state.replies % REPROBE_EVERY == 0:  # plain speed drifts too: rarely
                return Plan(False, "measuring again")
            return Plan(True, "pays", cutoff)
        if state.next_probe == 0:  # it has just stopped paying: probe later, then rarer
            state.next_probe = state.replies + state.probe_gap
        elif state.replies >= state.next_probe:
            state.probe_gap = min(REPROBE_EVERY, state.probe_gap * 2)
            state.next_probe = state.replies + state.probe_gap
            return Plan(True, "measuring again", cutoff)
        return Plan(False, "does not pay")

    def record(self, work: str, times: ModeTimes) -> None:
        """A finished reply's decode times (forced replies count too: they are real)."""
        state = self._works.setdefault(work, _Work())
        state.plain.add(times.plain_tokens, times.plain_s)
        state.drafting.add(times.drafting_tokens, times.drafting_s)
        self.changed = True

    def speeds(self, work: str) -> tuple[float, float]:
        """(plain, drafting) decode speed measured for this work, tokens/s (0: not yet)."""
        state = self._works.get(work)
        if state is None:
            return 0.0, 0.0
        return state.plain.tps, state.drafting.tps


def _numbers(raw: object) -> dict[str, float] | None:
    if not isinstance(raw, dict):
        return None
    out: dict[str, float] = {}
    for name in (*_FIELDS, *_SCHEDULE):
        value = raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value) or value < 0 or value > 1e12:
            return None
        out[name] = float(value)
    return out


PROMPT_LOOKUP = PromptLookup.kind


class DraftSwitchboard:
    """The engine's switches, one per model as loaded (path, GPU layers) and drafter
    (prompt lookup, or a draft model's file: each pays or not on its own): a model loaded
    again finds what was measured for it, also in a later process when a load names the
    file they are kept in (draft_memory.py)."""

    def __init__(self) -> None:
        self._switches: dict[tuple[str, int, str], DraftSwitch] = {}
        self._memory: DraftMemory | None = None
        self._keys: dict[tuple[str, int, str], str] = {}  # switch -> its key on disk

    def loaded(self, path: str, n_gpu_layers: int, kept_in: str) -> DraftSwitch:
        """A model was loaded; `kept_in`: the file the speeds are kept in ("": none). Its
        switches take what the file holds for them (measurements made here already win):
        prompt lookup's at once (returned), a draft model's when first asked for."""
        self._memory = DraftMemory(Path(kept_in)) if kept_in else None
        return self.for_model(path, n_gpu_layers)

    def for_model(self, path: str, n_gpu_layers: int, drafter: str = PROMPT_LOOKUP) -> DraftSwitch:
        model = (path, n_gpu_layers, drafter)
        switch = self._switches.setdefault(model, DraftSwitch())
        if self._memory is not None and model not in self._keys:
            key = model_key(path, n_gpu_layers)
            if key:
                # Prompt lookup's key is the model's alone (files written before draft
                # models keep working); a draft model's names its file too.
                key = key if drafter == PROMPT_LOOKUP else f"{key}|drafter={drafter}"
                self._keys[model] = key
                taken = switch.restore(self._memory.read().get(key))
                if taken:
                    log.info("Drafting speeds for %d kinds of work taken from %s", taken, key)
        return switch

    def save(self) -> None:
        """Write the speeds measured since the last save (the engine calls this when idle)."""
        if self._memory is None:
            return
        measured = {
            self._keys[model]: switch.export()
            for model, switch in self._switches.items()
            if switch.changed and model in self._keys
        }
        if measured:
            self._memory.write(measured)
