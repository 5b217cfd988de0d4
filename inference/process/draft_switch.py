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

Kept in the engine process's memory: a restart measures again (a few replies).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inference.process.speculative import JUDGE_AFTER, Cutoff, ModeTimes

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


class DraftSwitch:
    """One loaded model's drafting decisions, per kind of work ("chat", "summary", ...)."""

    def __init__(self) -> None:
        self._works: dict[str, _Work] = {}

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

    def speeds(self, work: str) -> tuple[float, float]:
        """(plain, drafting) decode speed measured for this work, tokens/s (0: not yet)."""
        state = self._works.get(work)
        if state is None:
            return 0.0, 0.0
        return state.plain.tps, state.drafting.tps


class DraftSwitchboard:
    """The engine's switches, one per model as loaded (path, GPU layers) and drafter
    (prompt lookup, or a draft model's file: each pays or not on its own): a model loaded
    again finds what was measured for it."""

    def __init__(self) -> None:
        self._switches: dict[tuple[str, int, str], DraftSwitch] = {}

    def for_model(self, path: str, n_gpu_layers: int, drafter: str = "") -> DraftSwitch:
        return self._switches.setdefault((path, n_gpu_layers, drafter), DraftSwitch())
