"""How much of what the built-in model writes for summaries and translations is Hearth's own
instructions repeated (issue 10, item 13), with the chat prompts every model got before
("before") and with the prompts chosen for the model now ("after").

Usage: PYTHONPATH=. python bench/instruction_echo.py [--model PATH] [--docs N]

For each of a few short documents it runs one summary and one translation (two paragraphs)
through the real engine, records every answer the model wrote, and prints:
  raw echo     share of the model's answers (non-space characters) that repeat instruction
               text (app/util/instruction_echo.py: runs of 4+ words of any of Hearth's prompts,
               and the prompts' markup such as <text>);
  shown echo   the same share of what the user is shown as the result (before: the answers
               as they were; after: the summary and translation after the echo check);
  flagged      results not presented as done (a summary refused, passages flagged).
Sampling is the app's own (seeded for translations), so runs are comparable, not identical.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.documents.model import Document, Section
from app.documents.options import SummaryOptions
from app.documents.prompts import final_prompt, map_prompt, reduce_prompt
from app.documents.summarizer import Summarizer
from app.documents.summary_types import SummaryError
from app.models.default_model import ensure_default_model
from app.translation.prompt import instruction_texts
from app.translation.translator import Translator
from app.util.instruction_echo import find_echo
from inference.protocol import ChatMessage, Done, EngineSettings
from inference.sync_client import SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository

OPTIONS = SummaryOptions(length=60, style="bullets", language="en")
DOCUMENTS = {
    "well": (
        "The village well",
        "The village of Ashford got its first public well in 1852. Before that, families "
        "carried water from the river, a walk of two miles each way.\n\nIn 1901 the well ran "
        "dry during a long drought. The council paid for a deeper shaft, which was finished "
        "in the spring of 1902 and still gives water today.",
    ),
    "meeting": (
        "Minutes of the library committee",
        "The committee met on 4 March. Ms Patel reported that loans rose by twelve percent "
        "last year, mostly children's books and audiobooks.\n\nThe committee agreed to open "
        "on Sunday afternoons from May, as a trial of three months, and to ask the council "
        "for two more part-time staff.",
    ),
    "recipe": (
        "Bread for beginners",
        "Mix five hundred grams of flour, ten grams of salt and seven grams of dried yeast. "
        "Add three hundred and fifty millilitres of warm water and knead for ten minutes.\n\n"
        "Let the dough rise for an hour, shape it, let it rise again for forty minutes and "
        "bake it at two hundred and twenty degrees for thirty minutes.",
    ),
    "trip": (
        "Notes from a walking trip",
        "We walked from Keswick to Buttermere over two days. The first night we stayed at a "
        "small hostel where the warden cooked a stew for everyone.\n\nOn the second day the "
        "rain stopped at noon, and from the top of the pass we could see three lakes.",
    ),
}


@dataclass
class Tally:
    answers: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    flagged: int = 0
    results: int = 0
    seconds: float = 0.0


class Recording:
    """The engine, with every answer the model wrote kept."""

    def __init__(self, engine: SyncEngine, tally: Tally) -> None:
        self.engine, self.tally = engine, tally

    @property
    def info(self) -> Any:
        return self.engine.info

    @property
    def n_ctx(self) -> int:
        return self.engine.n_ctx

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Done:
        done = self.engine.chat(messages, **kwargs)
        self.tally.answers.append(done.text)
        return done

    def complete(self, prompt: str, **kwargs: Any) -> Done:
        done = self.engine.complete(prompt, **kwargs)
        self.tally.answers.append(done.text)
        return done

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        return self.engine.count_tokens_many(texts)

    def cancel(self) -> None:
        self.engine.cancel()


def all_instructions() -> tuple[str, ...]:
    """Every instruction text of both prompt forms: an echo of either counts."""
    texts: list[str] = [*instruction_texts("en", "fr")]
    for chat in (True, False):
        texts += map_prompt("", "", 40, OPTIONS, chat=chat).instructions
        texts += reduce_prompt("", "", 40, OPTIONS, chat=chat).instructions
        for whole in (True, False):
            texts += final_prompt("", "", OPTIONS, whole_document=whole, chat=chat).instructions
    return tuple(texts)


def share(texts: Sequence[str], instructions: Sequence[str]) -> tuple[float, int, int]:
    checks = [find_echo(t, instructions) for t in texts]
    echoed = sum(c.echoed_chars for c in checks)
    total = sum(c.total_chars for c in checks)
    return (echoed / total if total else 0.0), echoed, total


def run(engine: SyncEngine, prompts: str, names: Sequence[str], db_path: Path, show: bool) -> Tally:
    tally = Tally()
    recording = Recording(engine, tally)
    db, _ = Database.open(db_path)  # a fresh store: nothing is reused between the runs
    started = time.perf_counter()
    try:
        summarizer = Summarizer(recording, DocumentRepository(db), prompts=prompts)
        translator = Translator(recording, model_name=prompts, prompts=prompts)
        for name in names:
            title, text = DOCUMENTS[name]
            document = Document(
                title, "text", f"/bench/{name}.txt", f"{prompts}-{name}", (Section(text),)
            )
            tally.results += 1
            try:
                result = summarizer.summarize(document, OPTIONS)
                # The code before this change showed every answer as it came.
                tally.shown.append(result.text if prompts == "auto" else tally.answers[-1])
                if result.echoed and prompts == "auto":
                    tally.flagged += 1
                    print(f"    flagged: {result.echo_note}", flush=True)
            except SummaryError as exc:
                tally.shown.append("")  # nothing is presented as a summary
                tally.flagged += 1
                print(f"    flagged: {exc}", flush=True)
            translation = translator.translate(text, target_lang="fr", source_lang="en")
            tally.results += 1
            answers = tally.answers[-translation.segments_sent :]
            tally.shown.append(translation.text if prompts == "auto" else "\n\n".join(answers))
            if translation.warning and prompts == "auto":
                tally.flagged += 1
                print(f"    flagged: {translation.warning}", flush=True)
            if show:
                print(
                    f"    summary shown: {tally.shown[-2]!r}\n    translation shown: "
                    f"{tally.shown[-1]!r}",
                    flush=True,
                )
            print(f"  {prompts:5} {name}: {len(tally.answers)} answers so far", flush=True)
    finally:
        db.close()
    tally.seconds = time.perf_counter() - started
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a GGUF (default: the built-in model)")
    parser.add_argument("--docs", type=int, default=3, help="how many documents (1-4)")
    parser.add_argument("--show", action="store_true", help="print what the user is shown")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hearth-bench-echo"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.model or ensure_default_model(args.work / "models")
    names = list(DOCUMENTS)[: max(1, min(4, args.docs))]
    instructions = all_instructions()
    with SyncEngine.start(EngineSettings(model_path=str(model), n_ctx=2048)) as engine:
        info = engine.info
        print(f"model: {info.name if info else model} · chat format: {info and info.chat_format}")
        tallies = {}
        for label, prompts in (("before", "chat"), ("after", "auto")):
            for old in args.work.glob(f"{label}.db*"):
                old.unlink()
            tallies[label] = run(engine, prompts, names, args.work / f"{label}.db", args.show)
    print()
    print(f"{'':8}{'answers':>8}{'raw echo':>12}{'shown echo':>12}{'flagged':>10}{'time':>8}")
    for label, tally in tallies.items():
        raw, raw_echo, raw_total = share(tally.answers, instructions)
        shown, _e, _t = share(tally.shown, instructions)
        print(
            f"{label:8}{len(tally.answers):>8}{raw:>11.1%} {shown:>11.1%} "
            f"{tally.flagged:>5} of {tally.results:<2}{tally.seconds:>7.0f}s"
            f"   ({raw_echo:,} of {raw_total:,} characters)"
        )


if __name__ == "__main__":
    main()
