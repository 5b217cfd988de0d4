"""Does a chat wait behind a document summary? Chat time to first token, idle and while a
background request's long prefill runs, against one prefill batch, measured in one run.

Run:  .venv/bin/python bench/chat_during_summary.py [--model PATH] [--rounds 3]
                                                    [--doc-tokens 3000] [--n-batch 512]

The engine reads a prompt in n_batch-sized steps and lets a chat turn (or a cancel) in
between two of them, so a chat sent while a summary chunk's prompt is being read should get
its first token at most one batch later than on an idle engine. Each round:
  idle     a chat message on an idle engine (its whole prompt evaluated, nothing cached)
  busy     a background request (a summary-sized prompt, like a document chunk) starts;
           the same kind of chat message is sent during its second prefill step, at
           (round + 0.5) / rounds of a batch's time into it, so the rounds cover the batch
           from just after a step began (the chat waits for nearly all of it) to its end.
  cancel   the background request again, cancelled at the same moment of its second step.
Printed: medians and worst rounds of each, the extra wait (busy - idle) and its ratio to one
batch's prefill time (the median gap between the background request's PrefillProgress
reports when it runs alone). Goal: the worst extra wait is at most one batch (ratio <= 1.0),
and every cancel is answered within one batch.
For scale, the whole background prefill is printed too: before prefill ran in batches, a chat
waited for all of what was left of it. Times are wall clock seen by this process, so a busy
machine makes all of them noisy; compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.engine_process import EngineProcess
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    Delta,
    Done,
    EngineSettings,
    Error,
    Event,
    GenerateRequest,
    Loaded,
    LoadRequest,
    PrefillProgress,
    Priority,
    Sampling,
)

GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=1)
PARAGRAPH = (
    "The harbour commission met on Tuesday to discuss the dredging of the northern channel, "
    "the cost of repairing the old sea wall, and a proposal to extend the ferry timetable "
    "into the winter months. Several members noted that traffic had grown by a third since "
    "the new terminal opened, while the budget for maintenance had stayed the same. "
)
QUESTIONS = (
    "What is the capital of France?",
    "Name three colours of the rainbow.",
    "How many legs does a spider have?",
    "What do bees make?",
    "Which planet is known as the red planet?",
    "Who wrote Romeo and Juliet?",
)


def _wait(engine: EngineProcess, request_id: int) -> Event:
    while True:
        event = engine.recv(600)
        if event is None:
            raise SystemExit("the engine stopped answering")
        if isinstance(event, Error) and event.id == request_id:
            raise SystemExit(f"engine error: {event.message}")
        if getattr(event, "id", None) == request_id and isinstance(event, Done | Loaded):
            return event


def _document(tokens: int) -> str:
    """About `tokens` tokens of plain English (~60 tokens a paragraph for Gemma)."""
    count = max(1, tokens // 60)
    return "\n\n".join(f"{i + 1}. {PARAGRAPH}" for i in range(count))


def _summary_request(engine: EngineProcess, text: str) -> GenerateRequest:
    """A summary of `text`; its own number comes first, so no two share more than the
    template's first tokens and each is read from the start, as a new chunk would be."""
    request_id = engine.next_id()
    message = f"Document {request_id}. Summarize it in three sentences.\n\n{text}"
    return GenerateRequest(
        request_id,
        (ChatMessage("user", message),),
        max_tokens=16,
        sampling=GREEDY,
        priority=Priority.BACKGROUND,
    )


def _chat_request(engine: EngineProcess, round_no: int) -> GenerateRequest:
    question = QUESTIONS[round_no % len(QUESTIONS)]
    return GenerateRequest(
        engine.next_id(), (ChatMessage("user", question),), max_tokens=4, sampling=GREEDY
    )


def idle_ttft(engine: EngineProcess, round_no: int, text: str) -> float:
    """A chat on an idle engine, after a document prompt filled the cache (as in real use)."""
    filler = _summary_request(engine, text[: len(text) // 8])
    engine.send(filler)
    _wait(engine, filler.id)
    chat = _chat_request(engine, round_no)
    sent = time.perf_counter()
    engine.send(chat)
    first = None
    while True:
        event = engine.recv(600)
        if isinstance(event, Delta) and event.id == chat.id and first is None:
            first = time.perf_counter()
        if isinstance(event, Done | Error) and event.id == chat.id:
            break
    return ((first or time.perf_counter()) - sent) * 1000


def busy_ttft(engine: EngineProcess, round_no: int, text: str, delay_s: float) -> float:
    """A chat sent `delay_s` into the second prefill step of a background request; the
    background request is cancelled once the chat has its answer (its resume would only
    read the prompt again)."""
    job = _summary_request(engine, text)
    chat = _chat_request(engine, round_no)
    engine.send(job)
    sent = first = None
    while True:
        event = engine.recv(600)
        now = time.perf_counter()
        if isinstance(event, PrefillProgress) and event.id == job.id and sent is None:
            time.sleep(delay_s)
            engine.send(chat)
            sent = time.perf_counter()
        elif isinstance(event, Delta) and event.id == chat.id and first is None:
            first = now
        elif isinstance(event, Done | Error) and event.id == chat.id:
            engine.send(CancelRequest(engine.next_id(), job.id))
        elif isinstance(event, Done | Error) and event.id == job.id:
            break
    if sent is None or first is None:
        raise SystemExit("the background request reported no prefill step")
    return (first - sent) * 1000


def cancel_ms(engine: EngineProcess, text: str, delay_s: float) -> float:
    """From a cancel sent `delay_s` into the second prefill step to the request's end."""
    job = _summary_request(engine, text)
    engine.send(job)
    sent = None
    while True:
        event = engine.recv(600)
        if isinstance(event, PrefillProgress) and event.id == job.id and sent is None:
            time.sleep(delay_s)
            engine.send(CancelRequest(engine.next_id(), job.id))
            sent = time.perf_counter()
        if isinstance(event, Done | Error) and event.id == job.id:
            return (time.perf_counter() - (sent or time.perf_counter())) * 1000


def whole_prefill(engine: EngineProcess, text: str) -> tuple[float, int, list[float]]:
    """The background request alone: its whole prefill (ms), prompt tokens, and the time of
    each full batch (the gaps between its step reports, the last, shorter step left out)."""
    job = _summary_request(engine, text)
    engine.send(job)
    steps: list[float] = []
    while True:
        event = engine.recv(600)
        now = time.perf_counter()
        if isinstance(event, PrefillProgress) and event.id == job.id:
            steps.append(now)
        if isinstance(event, Done) and event.id == job.id:
            gaps = [(b - a) * 1000 for a, b in itertools.pairwise(steps)]
            return event.stats.ttft_ms, event.stats.prompt_tokens, gaps[:-1]
        if isinstance(event, Error) and event.id == job.id:
            raise SystemExit(f"engine error: {event.message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--doc-tokens", type=int, default=3000)
    parser.add_argument("--n-batch", type=int, default=512)
    parser.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args()
    if args.model is None:
        from app.models.default_model import ensure_default_model

        args.model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-bench-models")
    text = _document(args.doc_tokens)
    engine = EngineProcess()
    engine.start()
    try:
        load = LoadRequest(
            engine.next_id(),
            EngineSettings(model_path=str(args.model), n_ctx=args.n_ctx, n_batch=args.n_batch),
        )
        engine.send(load)
        loaded = _wait(engine, load.id)
        assert isinstance(loaded, Loaded)
        info = loaded.info
        print(f"model: {info.name} ({args.model})")
        print(
            f"n_ctx {info.n_ctx}, n_batch {args.n_batch}, threads {info.n_threads} decode / "
            f"{info.n_threads_batch} prefill, {args.rounds} rounds"
        )
        idle, busy, cancels, wholes, gaps = [], [], [], [], []
        prompt_tokens = 0
        for round_no in range(args.rounds):
            whole_ms, prompt_tokens, round_gaps = whole_prefill(engine, text)
            wholes.append(whole_ms)
            gaps.extend(round_gaps)
            if not gaps:
                raise SystemExit("the document fits in one batch: raise --doc-tokens")
            # Spread the moments the chat (and the cancel) arrive over a batch.
            delay_s = statistics.median(gaps) / 1000 * (round_no + 0.5) / args.rounds
            idle.append(idle_ttft(engine, round_no, text))
            busy.append(busy_ttft(engine, round_no, text, delay_s))
            cancels.append(cancel_ms(engine, text, delay_s))
    finally:
        engine.stop()

    med = statistics.median
    batch_ms = med(gaps)
    extra = med(busy) - med(idle)
    worst_extra = max(busy) - med(idle)
    whole_ms = med(wholes)
    print(f"\nbackground prompt: {prompt_tokens} tokens; read alone in {whole_ms:.0f} ms")
    print(f"one prefill batch ({args.n_batch} tokens), median of {len(gaps)}: {batch_ms:.0f} ms\n")
    rows = [
        ("chat TTFT, idle engine", med(idle), idle),
        ("chat TTFT, sent during a background prefill", med(busy), busy),
        ("  extra wait (busy - idle), median", extra, None),
        ("  extra wait, worst round", worst_extra, None),
        ("cancel of a background prefill, answered after", med(cancels), cancels),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, each in rows:
        rounds = f"  (rounds: {', '.join(f'{v:.0f}' for v in each)})" if each else ""
        print(f"{name:<{width}}  {value:8.0f} ms{rounds}")
    print(
        f"\nworst extra wait / one batch = {worst_extra / batch_ms:.2f}  (goal <= 1.0; median "
        f"{extra / batch_ms:.2f}; a chat arriving at a random moment waits half a batch on "
        f"average)\nworst cancel / one batch     = {max(cancels) / batch_ms:.2f}  (goal <= 1.0)"
        f"\nbefore prefill ran in batches, both waited for the rest of the {whole_ms:.0f} ms "
        "prefill"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
