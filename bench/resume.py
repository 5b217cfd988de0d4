"""Instant resume (issue 13): reopening a long conversation in a fresh engine process.

    PYTHONPATH=. python bench/resume.py [--history 3900] [--repeats 3]

On the built-in Gemma 3 270M, in one run, interleaved:

- fresh: a new process, a 50-token first message (no history).
- resume (cold): a new process continuing a ~4,000-token conversation whose KV state a
  previous process kept (state key "chat:bench"), with a new message of about the same size;
  the state is restored on the request's path (after Enter).
- resume after warm (the app's path): the same in a new process, but first a WarmRequest for
  the conversation as shown (what the window sends when the chat is opened or its model has
  loaded), then a pause of --pause-ms (the user typing), then the same chat turn.

Figure definitions:
- time to first token (TTFT): the engine's trace `first_token_at_ms`, from the engine's
  receipt of the chat request to the first token out of the sampler (the model load before
  the request is not counted: both scenarios load the same model in a new process). For the
  cold resume it includes reading, checking and loading the state (`restore_ms`); after a
  warm it does not (the warm's `restore_ms` is printed beside it, paid before Enter).
- tokens evaluated: the trace's `tokens_evaluated`, prompt tokens run through the model.
- save cost: TTFT of a 50-token follow-up sent the moment the previous reply's Done arrives
  (the worst case: the engine has just begun to copy the state out), with keeping states
  on against off, in fresh processes, after a ~1,000-token first turn.

Goals (issue 13): resume TTFT <= 1.5x fresh TTFT, judged on the app's path (resume after
warm; the cold figure is printed too); tokens evaluated <= new message + 8; save cost ~0
(on/off ratio ~1.0).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from app.config.paths import resolve_paths
from app.models.default_model import ensure_default_model
from inference.protocol import (
    ChatMessage,
    Done,
    EngineSettings,
    KeptStates,
    Priority,
    Sampling,
    Warmed,
)
from inference.sync_client import SyncEngine

GREEDY = Sampling(temperature=0.0, top_k=1, seed=1)
WORDS = (
    "the river ran past the old mill where the miller kept his books and counted grain "
    "while children played near the water and the dog slept in the sun "
)
KEY = "chat:bench"


def _text(n_words: int) -> str:
    words = WORDS.split()
    return " ".join(words[i % len(words)] for i in range(n_words))


def _chat(
    settings: EngineSettings, kept: KeptStates | None, turns: list[list[ChatMessage]], key: str
) -> list[Done]:
    with SyncEngine.start(settings, kept_states=kept) as engine:
        return [
            engine.chat(
                m, max_tokens=8, sampling=GREEDY, priority=Priority.INTERACTIVE, state_key=key
            )
            for m in turns
        ]


def _warm_then_chat(
    settings: EngineSettings,
    kept: KeptStates,
    shown: list[ChatMessage],
    turn: list[ChatMessage],
    pause_s: float,
) -> tuple[Warmed, Done]:
    """The app's path: a fresh process, the warm sent when the chat is opened, the user
    typing for `pause_s`, then the turn."""
    with SyncEngine.start(settings, kept_states=kept) as engine:
        warmed = engine.warm(shown, KEY)
        time.sleep(pause_s)
        done = engine.chat(
            turn, max_tokens=8, sampling=GREEDY, priority=Priority.INTERACTIVE, state_key=KEY
        )
        return warmed, done


def _ratios(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}, " + " ".join(f"{v:.2f}" for v in values)


def _spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):7.1f} ms (min {min(values):.1f}, max {max(values):.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--history", type=int, default=2900, help="words of history (~1.35 tokens each)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--flash-attn", default="auto", choices=("auto", "on", "off"))
    parser.add_argument(
        "--pause-ms", type=float, default=300, help="between the warm and Enter (the user typing)"
    )
    args = parser.parse_args()
    model = ensure_default_model(resolve_paths().ensure().models_dir)
    settings = EngineSettings(model_path=str(model), n_ctx=8192, flash_attn=args.flash_attn)
    folder = Path(tempfile.mkdtemp(prefix="hearth-resume-"))
    kept = KeptStates(str(folder / "kv"))

    history = [ChatMessage("user", _text(args.history))]
    (first,) = _chat(settings, kept, [history], KEY)
    assert first.trace is not None
    read_ms = first.trace.prefill_ms
    print(f"history: {first.stats.prompt_tokens} prompt tokens, read in {read_ms:.0f} ms")
    question = _text(40)
    shown = [*history, ChatMessage("assistant", first.text)]
    resumed_prompt = [*shown, ChatMessage("user", question)]
    fresh_prompt = [ChatMessage("user", question)]
    state = next((folder / "kv").glob("*.kvstate"))
    saved = state.read_bytes()  # each resume starts from this state, written back first

    fresh_ms: list[float] = []
    resume_ms: list[float] = []
    restore_ms: list[float] = []
    evaluated: list[int] = []
    warm_ms: list[float] = []
    warm_restore_ms: list[float] = []
    warm_evaluated: list[int] = []
    fresh_tokens = 0
    texts = set()
    for _ in range(args.repeats):
        (fresh,) = _chat(settings, None, [fresh_prompt], "")
        assert fresh.trace is not None
        fresh_ms.append(fresh.trace.first_token_at_ms)
        fresh_tokens = fresh.stats.prompt_tokens
        state.write_bytes(saved)
        (resumed,) = _chat(settings, kept, [resumed_prompt], KEY)
        trace = resumed.trace
        assert trace is not None and trace.kept_state == "restored", trace
        resume_ms.append(trace.first_token_at_ms)
        restore_ms.append(trace.restore_ms)
        evaluated.append(trace.tokens_evaluated)
        texts.add(resumed.text)
        state.write_bytes(saved)
        warmed, ahead = _warm_then_chat(
            settings, kept, shown, resumed_prompt, args.pause_ms / 1000.0
        )
        trace = ahead.trace
        assert warmed.kept_state == "restored", warmed
        assert trace is not None and trace.kept_state == "restored_ahead", trace
        warm_ms.append(trace.first_token_at_ms)
        warm_restore_ms.append(warmed.restore_ms)
        warm_evaluated.append(trace.tokens_evaluated)
        texts.add(ahead.text)
    new_tokens = fresh_tokens - 1  # the fresh prompt: BOS + the message's turn
    print(f"fresh 50-token chat ({fresh_tokens} prompt tokens): TTFT {_spread(fresh_ms)}")
    print(
        f"cold resume ({resumed.stats.prompt_tokens} prompt tokens): TTFT {_spread(resume_ms)}; "
        f"restore {_spread(restore_ms)}; {resumed.trace.tokens_restored} tokens restored"
    )
    print(
        f"resume after warm ({args.pause_ms:.0f} ms pause): TTFT {_spread(warm_ms)}; "
        f"the warm's restore, before Enter: {_spread(warm_restore_ms)}"
    )
    fresh = statistics.median(fresh_ms)
    cold = statistics.median(resume_ms) / fresh
    ahead_ratio = statistics.median(warm_ms) / fresh
    # Each round's ratio against the fresh chat of the same round, too: on a shared machine
    # the load drifts between rounds more than within one.
    cold_rounds = [r / f for r, f in zip(resume_ms, fresh_ms, strict=True)]
    warm_rounds = [w / f for w, f in zip(warm_ms, fresh_ms, strict=True)]
    print(f"ratio cold resume/fresh TTFT: {cold:.2f} (per round: {_ratios(cold_rounds)})")
    print(
        f"ratio resume after warm/fresh TTFT: {ahead_ratio:.2f} (per round: "
        f"{_ratios(warm_rounds)}; goal <= 1.5: {'met' if ahead_ratio <= 1.5 else 'NOT met'})"
    )
    print(
        f"tokens evaluated on resume: cold {max(evaluated)}, after warm {max(warm_evaluated)} "
        f"(goal <= new message {new_tokens} + 8); same reply every time: {len(texts) == 1}"
    )

    # ---- what saving costs the next request ---------------------------------------------
    short_history = [ChatMessage("user", _text(700))]
    on: list[float] = []
    off: list[float] = []
    for _ in range(args.repeats):
        for keep, out in ((kept, on), (None, off)):
            _, follow = _chat(
                settings,
                keep,
                [
                    short_history,
                    [*short_history, ChatMessage("assistant", "ok"), ChatMessage("user", question)],
                ],
                "chat:save" if keep else "",
            )
            assert follow.trace is not None
            out.append(follow.trace.first_token_at_ms)
    print(f"follow-up TTFT, keeping states: {_spread(on)}")
    print(f"follow-up TTFT, not keeping:    {_spread(off)}")
    print(f"ratio on/off: {statistics.median(on) / statistics.median(off):.2f} (goal ~1.0)")


if __name__ == "__main__":
    main()
