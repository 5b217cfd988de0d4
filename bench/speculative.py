"""Speculative decoding on copy-heavy work (issue 13): plain vs drafting forced on vs auto.

Run:  .venv/bin/python bench/speculative.py [--model PATH] [--rounds 3] [--tokens 128]
                                            [--random-1b] [--free] [--threads N]
                                            [--tiny] [--draft PATH|same]

One engine process (flash attention on: auto drafts only with it); the same prompts are
answered greedily with drafting "off", "on" and "auto", interleaved (the order of the three
rotates every round, so none always runs first on a busy machine). Copy-heavy prompts by
default (quote, repeat, summarize quoting, translate carrying names and numbers, edit a
pasted function: each repeats its source); --free: prompts that copy little (a poem, an
explanation), where drafting has little to follow. "auto" measures on its own kind of work
(named "summary"), so its exploration (a plain reply, then a drafting reply that may give up)
counts in its figure; the forced ones name another ("translation"), so they teach it nothing.

Printed per mode: decode speed as app/chat/timing.py defines it, over all its replies (the
count of per-token gaps ÷ their sum: tokens after the first ÷ first to last token), the ratio
to plain, the spread of the per-round ratios (min-max), acceptance and tokens per step; then
whether each prompt's text was byte-identical across the modes of each round (and across
rounds), and auto's decisions.
Goals: the built-in Gemma 3 270M on a CPU: auto >= 0.98x plain; a memory-bound model
(--random-1b: a random-weight ~1.1B-parameter llama, q8_0, 32k vocabulary, built once into
/tmp): drafting >= 1.3x plain. A random model copies nothing on purpose: what it repeats is its
own loops, which prompt lookup also catches.

--draft PATH (or "same": the main model as its own, always-right draft) loads a draft model
beside the main one, so "on" and "auto" draft with it; the trace's drafter is counted per mode.
--tiny: the tiny random test model (built once into /tmp): the mechanics, not a speed claim.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.engine_process import EngineProcess
from inference.protocol import (
    CompletionRequest,
    Done,
    EngineSettings,
    Error,
    Loaded,
    LoadRequest,
    Sampling,
    Work,
)

GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=1)
MODES = ("off", "on", "auto")
RANDOM_1B = Path(tempfile.gettempdir()) / "hearth-spec-random-1b-q8_0.gguf"
TINY = Path(tempfile.gettempdir()) / "hearth-spec-tiny.gguf"

DOC = (
    "Hearth keeps each conversation's KV state on disk after a reply. When the conversation "
    "continues after a restart, the engine loads the saved state instead of reading the whole "
    "history again, and evaluates only the new message. A state is used only when its tokens "
    "are an exact prefix of the new prompt; a stale or damaged file is skipped and deleted."
)
NAMES = (
    "On 12 March 2026 Dr. Amelia Okafor of the Lisbon Institute measured 4,107 tokens restored "
    "in 10 ms against 477 ms of prefill, a 46x gain, on a ThinkPad X1 with 32 GB of RAM."
)
CODE = (
    "def load_state(path, tokens):\n    data = read_file(path)\n    if data.tokens != "
    "tokens[: len(data.tokens)]:\n        delete(path)\n        return None\n    return data\n"
)
# Work that copies little: drafting finds few n-grams to follow, and auto must not lose there.
FREE_TASKS = (
    "Write a short poem about a lighthouse in winter.",
    "Explain in a few sentences why the sky is blue.",
    "Give three ideas for a birthday party for a ten-year-old.",
    "Describe the taste of coffee to someone who has never had it.",
)
TASKS = (
    f"Repeat the following text exactly, word for word:\n\n{DOC}",
    f"Summarize this text in two sentences, quoting its own words where you can:\n\n{DOC}",
    f"Translate into French. Keep every name and number as it is:\n\n{NAMES}",
    f"Add a docstring to this function and return the whole function:\n\n{CODE}",
)


def gemma_prompt(task: str) -> str:
    return f"<start_of_turn>user\n{task}<end_of_turn>\n<start_of_turn>model\n"


def build_random_1b(path: Path) -> Path:
    """~1.1B parameters: 16 layers of 2048 (8192 feed-forward, 32 heads, 8 KV heads, as
    Llama 3.2 1B), q8_0, the test vocabulary padded to ~32k tokens (Llama 2's size)."""
    if path.exists():
        return path
    from tests.support.tiny_gguf import build_tiny_model, build_vocabulary

    t0 = time.perf_counter()
    partial = path.with_suffix(".partial")
    extra = 32000 - len(build_vocabulary()[0])
    build_tiny_model(
        partial, n_layer=16, n_embd=2048, n_head=32, n_head_kv=8, n_ff=8192,
        context_length=4096, weight_type="q8_0", extra_vocab=extra, seed=3,
    )  # fmt: skip
    partial.rename(path)
    print(f"built {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s")
    return path


def start(settings: EngineSettings) -> EngineProcess:
    engine = EngineProcess()
    engine.start()
    request = LoadRequest(engine.next_id(), settings)
    engine.send(request)
    while True:
        event = engine.recv(900)
        if isinstance(event, Error):
            engine.stop()
            raise SystemExit(f"load failed: {event.message}")
        if isinstance(event, Loaded):
            info = event.info
            if settings.draft_model_path:
                print(f"  draft model: {info.draft_name or 'not loaded'} {info.draft_note}")
            return engine


def reply(
    engine: EngineProcess,
    prompt: str,
    mode: str,
    tokens: int,
    ignore_eos: bool,
    sampling: Sampling = GREEDY,
) -> Done:
    request = CompletionRequest(
        engine.next_id(), prompt, max_tokens=tokens, sampling=sampling, ignore_eos=ignore_eos,
        drafting=mode, work=Work.SUMMARY if mode == "auto" else Work.TRANSLATION,
    )  # fmt: skip
    engine.send(request)
    while True:
        event = engine.recv(900)
        if getattr(event, "id", None) != request.id:
            continue
        if isinstance(event, Error):
            raise SystemExit(f"engine error: {event.message}")
        if isinstance(event, Done):
            return event


SETTLED = ("pays", "does not pay")  # auto's reasons once it measured both ways


def settled(tally: Tally) -> None:
    """Auto once it has decided: its replies whose reason is "pays" or "does not pay" against
    the plain replies to the same prompts in the same rounds (decode speed as above, summed
    over those replies): what a user gets after the first few replies of a kind of work,
    without the exploration the figure above includes."""
    keys = [key for key, reason in tally.decided.items() if reason in SETTLED]
    if not keys:
        print("  auto once decided: no reply yet (raise --rounds)")
        return
    sums = {m: [sum(tally.replies[k][m][i] for k in keys) for i in (0, 1)] for m in ("off", "auto")}
    ratio = Tally.speed(sums["auto"]) / Tally.speed(sums["off"])
    print(
        f"  auto once decided: {ratio:.3f}x plain over {len(keys)} replies "
        f"({len(tally.decided) - len(keys)} exploring replies left out)"
    )


class Tally:
    """Per-token gaps (ms) summed per mode, overall and per round, plus drafting counts."""

    def __init__(self) -> None:
        self.gaps: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.rounds: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0.0])
        self.drafted: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.steps: Counter[str] = Counter()
        self.step_tokens: Counter[str] = Counter()
        self.decisions: Counter[str] = Counter()
        self.drafters: dict[str, Counter[str]] = defaultdict(Counter)
        # (round, task) -> mode -> (gaps, ms), and auto's decision for that reply
        self.replies: dict[tuple[int, int], dict[str, tuple[int, float]]] = defaultdict(dict)
        self.decided: dict[tuple[int, int], str] = {}
        # task -> text -> the (mode, round) replies that gave it
        self.texts: dict[int, dict[str, list[tuple[str, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def add(self, round_: int, task: int, mode: str, done: Done) -> None:
        trace = done.trace
        assert trace is not None, "traces are off (HEARTH_TRACE=0?)"
        gaps = trace.token_ms
        for bucket in (self.gaps[mode], self.rounds[(round_, mode)]):
            bucket[0] += len(gaps)
            bucket[1] += sum(gaps)
        self.drafted[mode] += trace.drafted
        self.accepted[mode] += trace.draft_accepted
        self.steps[mode] += trace.draft_steps
        self.step_tokens[mode] += trace.draft_step_tokens
        self.replies[(round_, task)][mode] = (len(gaps), sum(gaps))
        if mode == "auto":
            self.decisions[trace.drafting] += 1
            self.decided[(round_, task)] = trace.drafting
        if trace.drafter:
            self.drafters[mode][trace.drafter] += 1
        self.texts[task][done.text].append((mode, round_ + 1))

    @staticmethod
    def speed(bucket: list[float]) -> float:
        return bucket[0] / (bucket[1] / 1000.0) if bucket[1] else 0.0


def run(label: str, settings: EngineSettings, prompts: list[str], args: argparse.Namespace,
        ignore_eos: bool) -> None:  # fmt: skip
    engine = start(settings)
    tally = Tally()
    try:
        reply(engine, prompts[0], "off", 8, ignore_eos)  # warm: first-call costs aside
        for round_ in range(args.rounds):
            order = MODES[round_ % 3 :] + MODES[: round_ % 3]
            for task, prompt in enumerate(prompts):
                # Every measured reply starts from the same cache state: its prompt and at
                # least one token after it cached, so the prompt's last token is evaluated
                # again on its own. A prefill's logits may differ from that one-token
                # evaluation's in the last bits and tip a greedy near-tie (not drafting's
                # doing: plain decoding does the same).
                reply(engine, prompt, "off", 2, True)
                for mode in order:
                    done = reply(engine, prompt, mode, args.tokens, ignore_eos, args.sampling)
                    tally.add(round_, task, mode, done)
            line = ", ".join(f"{m} {tally.speed(tally.rounds[(round_, m)]):.1f}" for m in MODES)
            print(f"  round {round_ + 1}: tok/s {line}", flush=True)
    finally:
        engine.stop()
    plain = tally.speed(tally.gaps["off"])
    print(f"\n{label}: {len(prompts)} prompts x {args.rounds} rounds, "
          f"up to {args.tokens} tokens a reply, {args.sampling}")  # fmt: skip
    for mode in MODES:
        speed = tally.speed(tally.gaps[mode])
        per_round = [
            tally.speed(tally.rounds[(r, mode)]) / tally.speed(tally.rounds[(r, "off")])
            for r in range(args.rounds)
        ]
        drafted, steps = tally.drafted[mode], tally.steps[mode]
        extra = ""
        if drafted:
            extra = (
                f"; {tally.accepted[mode]} of {drafted} drafted tokens accepted, "
                f"{tally.step_tokens[mode] / steps:.2f} tokens per step"
            )
        print(
            f"  {mode:>4}: {speed:7.2f} tok/s ({tally.gaps[mode][0]} tokens), "
            f"{speed / plain:.3f}x plain (per round {min(per_round):.3f}-{max(per_round):.3f}, "
            f"median {statistics.median(per_round):.3f}){extra}"
        )
    settled(tally)
    by_round: dict[tuple[int, int], set[str]] = defaultdict(set)
    for task, texts in tally.texts.items():
        for text, who in texts.items():
            for _, round_ in who:
                by_round[(task, round_)].add(text)
    same = all(len(texts) == 1 for texts in by_round.values())
    print(f"  byte-identical across the three modes, every prompt in every round: {same}")
    stable = all(len(texts) == 1 for texts in tally.texts.values())
    print(f"  and across rounds too: {stable}")
    for task, texts in tally.texts.items():
        if len(texts) > 1:  # which replies (mode, round) gave which text
            variants = list(texts)
            common = next(
                (i for i, chars in enumerate(zip(*variants, strict=False)) if len(set(chars)) > 1),
                min(map(len, variants)),
            )
            print(
                f"  task {task}: {len(texts)} texts, alike for {common} characters (a model's "
                "first prompt is read in a short step, later ones in full batches "
                "(inference/process/prefill_watch.py), and the batching's last bits can tip a "
                "greedy near-tie: the same for all modes of a round):"
            )
            for text, who in texts.items():
                names = " ".join(f"{mode}{round_}" for mode, round_ in who)
                print(f"    {names}: ...{text[common : common + 60]!r}")
    print(f"  auto's decisions: {dict(tally.decisions)}")
    print(f"  drafters that ran (replies): { {m: dict(c) for m, c in tally.drafters.items()} }")


class Oracle:
    """A drafter that knows the reply (plain decoding's tokens): every draft right, the
    upper bound of a reply that copies its source throughout."""

    def __init__(self, prompt: Sequence[int], reply: Sequence[int]) -> None:
        self.reply = list(reply)
        self.at = 0

    def sync(self, tokens: Sequence[int], offset: int) -> None:
        self.at = len(tokens)

    def propose(self, k: int) -> list[int]:
        return self.reply[self.at : self.at + k]


def in_process_bound(
    settings: EngineSettings, prompts: list[str], args: argparse.Namespace
) -> None:
    """In this process: the cost of one llama_decode by rows (1 row: plain decoding's step;
    k+1 rows: a verification of k drafts), and decode speed with drafts always right (Oracle)
    against plain decoding, interleaved over the rounds: what drafting buys where the reply
    copies, on this model, free of how well prompt lookup guesses."""
    from inference.process import llama_adapter as adapter
    from inference.process import llama_rows
    from tests.support.speculative_runs import run_reply

    llm = adapter.load_llama(settings)
    try:
        tokens = llm.tokenize(prompts[0].encode(), add_bos=True, special=True)
        adapter.clear_kv_cache(llm)
        llm.eval(tokens)
        cost: dict[int, list[float]] = defaultdict(list)
        for _ in range(3):
            for rows in (1, 2, 4, 8, 13):
                t0 = time.perf_counter()
                llama_rows.decode_rows(llm, tokens[-rows:])
                adapter.synchronize(llm)
                cost[rows].append((time.perf_counter() - t0) * 1000.0)
                llama_rows.keep_cached(llm, len(tokens))
        line = ", ".join(f"{r} rows {statistics.median(ms):.0f} ms" for r, ms in cost.items())
        print(f"  one llama_decode (median of 3): {line}")
        speed: dict[str, list[float]] = defaultdict(list)
        same = True
        for round_ in range(args.rounds):
            for prompt in prompts:
                # The same cache state for the three (see run()): prompt + a token cached.
                run_reply(llm, prompt, "off", max_tokens=2)
                plain = run_reply(llm, prompt, "off", max_tokens=args.tokens, clear=False)
                reference = plain.ids
                runs = {"plain": plain}
                order = ("oracle", "lookup") if round_ % 2 == 0 else ("lookup", "oracle")
                oracle = functools.partial(Oracle, reply=reference)
                for name in order:
                    if name == "oracle":
                        runs[name] = run_reply(
                            llm, prompt, "on", max_tokens=args.tokens, drafter=oracle, clear=False
                        )
                    else:
                        runs[name] = run_reply(
                            llm, prompt, "on", max_tokens=args.tokens, clear=False
                        )
                for name, run_ in runs.items():
                    times = run_.drafting.times
                    n = times.plain_tokens + times.drafting_tokens
                    speed[name].append(n / (times.plain_s + times.drafting_s))
                    same = same and run_.ids == reference
        base = statistics.median(speed["plain"])
        for name, values in speed.items():
            print(
                f"  {name:>6}: median {statistics.median(values):.2f} tok/s, "
                f"{statistics.median(values) / base:.3f}x plain"
            )
        print(f"  byte-identical to plain: {same}")
    finally:
        llm.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--random-1b", action="store_true", help="the memory-bound case")
    parser.add_argument(
        "--bound", action="store_true",
        help="in-process: decode cost by rows, and speed with every draft right",
    )  # fmt: skip
    parser.add_argument(
        "--free", action="store_true", help="work that copies little instead of copy-heavy work"
    )
    parser.add_argument("--draft", default="", help="a draft model ('same': the main model)")
    parser.add_argument("--tiny", action="store_true", help="the tiny random test model")
    parser.add_argument(
        "--temperature", type=float, default=0.0,
        help="sample (Hearth's chat defaults otherwise, seed 1) instead of greedy decoding",
    )  # fmt: skip
    args = parser.parse_args()
    args.sampling = GREEDY if args.temperature <= 0 else Sampling(args.temperature, seed=1)
    # Flash attention on: auto drafts only with it (llama_rows.flash_attention_on).
    threads = {"n_threads": args.threads, "n_threads_batch": args.threads, "flash_attn": True}
    tasks = FREE_TASKS if args.free else TASKS
    kind = "little-copying" if args.free else "copy-heavy"
    if args.random_1b or args.tiny:
        if args.tiny:
            from tests.support.tiny_gguf import build_tiny_model

            model = TINY if TINY.exists() else build_tiny_model(TINY)
        else:
            model = build_random_1b(RANDOM_1B)
        draft = str(model) if args.draft == "same" else args.draft
        settings = EngineSettings(str(model), n_ctx=2048, draft_model_path=draft, **threads)
        if draft:
            kind += f", draft model {Path(draft).name}"
        name = "tiny random" if args.tiny else "random ~1.1B q8_0"
        prompts = [f"{t}\n\n" for t in tasks]
        if args.bound:
            print(f"{name}, {kind}, in this process:")
            in_process_bound(settings, prompts, args)
            return
        run(f"{name}, {kind}", settings, prompts, args, True)
        return
    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.mkdtemp(prefix="hearth-bench-")))
    draft = str(model) if args.draft == "same" else args.draft
    settings = EngineSettings(model_path=str(model), n_ctx=2048, draft_model_path=draft, **threads)
    if draft:
        kind += f", draft model {Path(draft).name}"
    run(f"{model.name}, {kind}", settings, [gemma_prompt(t) for t in tasks], args, False)


if __name__ == "__main__":
    main()
