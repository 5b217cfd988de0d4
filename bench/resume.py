"""Instant resume (issue 13): reopening a long conversation in a fresh engine process.

    PYTHONPATH=. python bench/resume.py [--history 3900] [--repeats 3]

On the built-in Gemma 3 270M, in one run, interleaved:

- fresh: a new process, a 50-token first message (no history).
- resume: a new process continuing a ~4,000-token conversation whose KV state a previous
  process kept (state key "chat:bench"), with a new message of about the same size.

Figure definitions:
- time to first token (TTFT): the engine's trace `first_token_at_ms`, from the engine's
  receipt of the chat request to the first token out of the sampler (the model load before
  the request is not counted: both scenarios load the same model in a new process). For the
  resume it includes reading, checking and loading the state (`restore_ms`).
- tokens evaluated: the trace's `tokens_evaluated`, prompt tokens run through the model.
- save cost: TTFT of a 50-token follow-up sent the moment the previous reply's Done arrives
  (the worst case: the engine has just begun to copy the state out), with keeping states
  on against off, in fresh processes, after a ~1,000-token first turn.

Goals (issue 13): resume TTFT <= 1.5x fresh TTFT; tokens evaluated <= new message + 8;
save cost ~0 (on/off ratio ~1.0).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from app.config.paths import resolve_paths
from app.models.default_model import ensure_default_model
from inference.protocol import ChatMessage, Done, EngineSettings, KeptStates, Priority, Sampling
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
    resumed_prompt = [*history, ChatMessage("assistant", first.text), ChatMessage("user", question)]
    fresh_prompt = [ChatMessage("user", question)]
    state = next((folder / "kv").glob("*.kvstate"))
    saved = state.read_bytes()  # each resume starts from this state, written back first

    fresh_ms: list[float] = []
    resume_ms: list[float] = []
    restore_ms: list[float] = []
    evaluated: list[int] = []
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
    new_tokens = fresh_tokens - 1  # the fresh prompt: BOS + the message's turn
    print(f"fresh 50-token chat ({fresh_tokens} prompt tokens): TTFT {_spread(fresh_ms)}")
    print(
        f"resume ({resumed.stats.prompt_tokens} prompt tokens): TTFT {_spread(resume_ms)}; "
        f"restore {_spread(restore_ms)}; {resumed.trace.tokens_restored} tokens restored"
    )
    ratio = statistics.median(resume_ms) / statistics.median(fresh_ms)
    print(f"ratio resume/fresh TTFT: {ratio:.2f} (goal <= 1.5)")
    print(
        f"tokens evaluated on resume: {max(evaluated)} (goal <= new message {new_tokens} + 8); "
        f"same reply every time: {len(texts) == 1}"
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
