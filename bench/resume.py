"""Instant resume (issue 13): reopening a long conversation in a fresh engine process.

    PYTHONPATH=. python bench/resume.py [--history 3900] [--repeats 3]

On the built-in Gemma 3 270M, in one run, interleaved:

- fresh: a new process, a 50-token first message (no history).
- resume (cold): a new process continuing a ~4,000-token conversation whose KV state a
  previous process kept (state key "chat:bench"), with a new message of about the same size;
  the state is restored on the request's path (after Enter).
- resume after warm, message pasted: the same in a new process, but first a WarmRequest for
  the conversation as shown (what the window sends when the chat is opened or its model has
  loaded), then a pause of --pause-ms, then the same chat turn: the whole message is read at
  Enter, as when it is pasted and sent at once.
- typed (the app's path when the message is typed), for a fresh chat and for the resume
  (after its warm): warms carrying the text typed so far (WarmRequest.typing, what the window
  sends at most every 250 ms while the user types) at 10, 20, 30 and 38 of the message's 40
  words, 250 ms apart, then Enter 250 ms after the last. The last two words and the turn's
  closing are left for Enter: conservative (at 40 words a minute a typist adds a sixth of a
  word in the window's 250 ms).

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

Goals (issue 13): resume TTFT <= 1.5x fresh TTFT, judged on the app's paths (typed against
typed, and pasted after the warm against a fresh chat; the cold figure is printed too);
tokens evaluated <= new message + 8; save cost ~0 (on/off ratio ~1.0).
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


TYPED_AT = (10, 20, 30, 38)  # words of the 40-word message each typing warm carries
TYPING_GAP_S = 0.25


def _typed_turn(
    settings: EngineSettings,
    kept: KeptStates | None,
    shown: list[ChatMessage],
    question: str,
) -> Done:
    """The app's path with the message typed: the chat's warm when opened (a resume only),
    warms carrying the text typed so far, Enter."""
    key = KEY if shown else ""
    words = question.split()
    with SyncEngine.start(settings, kept_states=kept) as engine:
        if shown:
            engine.warm(shown, key)
        for n in TYPED_AT:
            time.sleep(TYPING_GAP_S)
            engine.warm(shown, key, typing=" ".join(words[:n]))
        time.sleep(TYPING_GAP_S)
        return engine.chat(
            [*shown, ChatMessage("user", question)], max_tokens=8, sampling=GREEDY,
            priority=Priority.INTERACTIVE, state_key=key,
        )  # fmt: skip


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
    typed_fresh_ms: list[float] = []
    typed_resume_ms: list[float] = []
    typed_evaluated: list[int] = []
    typed_ahead: list[int] = []
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
        typed_fresh = _typed_turn(settings, None, [], question)
        assert typed_fresh.trace is not None
        typed_fresh_ms.append(typed_fresh.trace.first_token_at_ms)
        state.write_bytes(saved)
        typed = _typed_turn(settings, kept, shown, question)
        trace = typed.trace
        assert trace is not None and trace.kept_state == "restored_ahead", trace
        typed_resume_ms.append(trace.first_token_at_ms)
        typed_evaluated.append(trace.tokens_evaluated)
        typed_ahead.append(trace.tokens_typed_ahead)
        texts.add(typed.text)
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
        f"ratio pasted resume after warm/fresh TTFT: {ahead_ratio:.2f} (per round: "
        f"{_ratios(warm_rounds)}; goal <= 1.5: {'met' if ahead_ratio <= 1.5 else 'NOT met'})"
    )
    typed_fresh = statistics.median(typed_fresh_ms)
    typed_ratio = statistics.median(typed_resume_ms) / typed_fresh
    typed_rounds = [r / f for r, f in zip(typed_resume_ms, typed_fresh_ms, strict=True)]
    print(f"typed, fresh chat: TTFT {_spread(typed_fresh_ms)}")
    print(
        f"typed, resume after warm: TTFT {_spread(typed_resume_ms)}; "
        f"{min(typed_ahead)}-{max(typed_ahead)} tokens read while typing, "
        f"{max(typed_evaluated)} at Enter at most"
    )
    print(
        f"ratio typed resume/typed fresh TTFT: {typed_ratio:.2f} (per round: "
        f"{_ratios(typed_rounds)}; goal <= 1.5: {'met' if typed_ratio <= 1.5 else 'NOT met'})"
    )
    print(
        "typed resume against the pasted resume: "
        f"{statistics.median(typed_resume_ms) / statistics.median(warm_ms):.2f} "
        "(what reading ahead while typing saves at Enter)"
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
