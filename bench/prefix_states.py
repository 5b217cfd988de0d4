"""A summary job's fixed part (its long instructions and glossary) kept on disk between
engine processes, against reading it again (issue 13, "the same mechanism keeps the fixed
part of summary and translation prompts warm across jobs"). One run, interleaved.

Run:  .venv/bin/python bench/prefix_states.py [--model PATH] [--rounds 4] [--threads 2]
                                             [--glossary 120]

Setting: a chat prompt [system: instructions + a glossary of --glossary terms (about 1,500
tokens at 120), user: one chunk of a document], the summarizer's shape, sent with the key
inference.state_files.fixed_part_key("summary", system text) as app/documents/summarizer.py
sends it. Two priming jobs (two other chunks, each in its own engine process) leave the
kept state holding just the prefix the jobs share (inference/process/kv_state.py).

Each round then starts two fresh engine processes, in alternating order, and sends the same
new chunk to each:
  kept     states kept in the primed folder: the fixed part is restored, the chunk read;
  without  no kept states: the whole prompt is read.
What is timed: time to first token as the engine measures it (GenerationStats.ttft_ms: from
the prompt being built to the first token out of the sampler; process start and model load
are not in it), and the tokens evaluated (prompt_tokens_evaluated). Printed per round and
as medians, with the ratio kept/without of the medians and the tokens restored. Greedy, 8
tokens; the two replies must be identical (a kept state never changes a reply).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.protocol import ChatMessage, Done, EngineSettings, KeptStates, Sampling
from inference.state_files import fixed_part_key
from inference.sync_client import SyncEngine

GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=1)
INSTRUCTIONS = (
    "You summarize one part of a longer document for a reader who has not seen it. Keep every "
    "name, number and date exactly as written. Write plain sentences, no lists, at most five "
    "sentences. Use the glossary's preferred terms wherever the text uses a synonym.\n"
    "Glossary (term: preferred wording):\n"
)
CHUNK = (
    "Part {n}. The harbour board met on the {n}th of March to discuss the new breakwater. "
    "The engineer reported that the foundations had settled by {n} centimetres since winter, "
    "and that the contractor asked for another {n} weeks. The chair noted the cost overrun. "
)


def system_text(terms: int) -> str:
    rows = [f"term {i} harbour-word-{i}: preferred wording number {i}" for i in range(terms)]
    return INSTRUCTIONS + "\n".join(rows)


def job(settings: EngineSettings, kept: KeptStates | None, system: str, n: int) -> Done:
    key = fixed_part_key("summary", system)
    messages = [ChatMessage("system", system), ChatMessage("user", CHUNK.format(n=n) * 3)]
    with SyncEngine.start(settings, kept_states=kept) as engine:
        return engine.chat(messages, max_tokens=8, sampling=GREEDY, state_key=key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--glossary", type=int, default=120)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.mkdtemp(prefix="hearth-bench-")))
    settings = EngineSettings(
        str(model), n_ctx=4096, n_threads=args.threads, n_threads_batch=args.threads
    )
    system = system_text(args.glossary)
    with tempfile.TemporaryDirectory() as folder:
        kept = KeptStates(folder)
        for n in (1, 2):  # priming: the kept state converges to the shared prefix
            job(settings, kept, system, n)
        rows: list[tuple[Done, Done]] = []
        for round_ in range(args.rounds):
            n = 10 + round_
            if round_ % 2 == 0:
                with_kept = job(settings, kept, system, n)
                without = job(settings, None, system, n)
            else:
                without = job(settings, None, system, n)
                with_kept = job(settings, kept, system, n)
            restored = with_kept.trace.tokens_restored if with_kept.trace is not None else 0
            same = with_kept.text == without.text
            print(
                f"round {round_ + 1}: kept {with_kept.stats.ttft_ms:7.0f} ms "
                f"({with_kept.stats.prompt_tokens_evaluated} evaluated, {restored} restored)  "
                f"without {without.stats.ttft_ms:7.0f} ms "
                f"({without.stats.prompt_tokens_evaluated} evaluated)  same reply: {same}",
                flush=True,
            )
            rows.append((with_kept, without))
    kept_ms = statistics.median(k.stats.ttft_ms for k, _ in rows)
    plain_ms = statistics.median(w.stats.ttft_ms for _, w in rows)
    print(
        f"prompt {rows[0][1].stats.prompt_tokens} tokens; time to first token median: kept "
        f"{kept_ms:.0f} ms, without {plain_ms:.0f} ms, ratio {kept_ms / plain_ms:.3f}; "
        f"replies identical in {sum(k.text == w.text for k, w in rows)}/{len(rows)} rounds"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
