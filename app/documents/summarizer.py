"""Whole-document summarization: map each chunk, reduce the partial summaries in groups that
fit the context until one pass remains, then the final pass (streamed).

Runs on one worker thread; `cancel()` may be called from any other thread. Every partial
summary is stored as soon as it exists, keyed by (document hash, model, options, level,
index), so a cancelled or crashed job resumes with the missing requests only, and a repeated
one returns the stored final summary without a request.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from app.documents.model import Document
from app.documents.options import SummaryOptions
from app.documents.prompts import Prompt, final_messages, map_messages, reduce_messages
from app.documents.summary_run import SummaryRun
from app.documents.summary_types import (
    OnChunk,
    OnDelta,
    OnProgress,
    SummaryCancelled,
    SummaryError,
    SummaryResult,
    SummaryStore,
)
from app.util.instruction_echo import follows_chat_prompts
from inference.protocol import Done, Sampling, Work
from inference.state_files import fixed_part_key
from inference.sync_client import BlockingEngine, EngineError

# Chat-template tokens around each message (role markers, turn ends) that counting the
# message text alone does not see; generous so no request overflows the context.
TEMPLATE_MARGIN = 64
SAMPLING = Sampling(temperature=0.2, top_p=0.9, top_k=40, min_p=0.05, repeat_penalty=1.1)
# "auto": chat prompts for models with their own chat template, completion prompts for the
# rest (app/util/instruction_echo.py); "chat" / "completion" force one (benchmarks, tests).
PROMPT_STYLES = ("auto", "chat", "completion")


class Summarizer:
    def __init__(
        self, engine: BlockingEngine, store: SummaryStore, *, prompts: str = "auto"
    ) -> None:
        if prompts not in PROMPT_STYLES:
            raise ValueError(f"prompts must be one of {PROMPT_STYLES}")
        self._engine = engine
        self._store = store
        self.prompts = prompts
        self._cancelled = threading.Event()
        # Guards _in_chat. The engine is told to cancel only while a chat request runs: a
        # cancelled tokenize request is never answered by the worker (SyncEngine would wait
        # forever), and between requests the flag alone is enough.
        self._lock = threading.Lock()
        self._in_chat = False

    # ---- sizes ----------------------------------------------------------------------------

    def answer_tokens(self, options: SummaryOptions) -> tuple[int, int]:
        """(max tokens of a partial summary, max tokens of the final answer)."""
        final = options.target_words * 2 + 64  # ~1.3 tokens a word in English, more elsewhere
        partial = max(96, min(options.target_words, 300) * 2)
        return partial, final

    def chunk_budget(self, options: SummaryOptions, title: str = "") -> int:
        """Tokens of document text one request may carry: n_ctx − prompt − answer room."""
        partial, final = self.answer_tokens(options)
        prompts = (
            map_messages(title, "", 9999, options),
            reduce_messages(title, "", 9999, options),
            final_messages(title, "", options, whole_document=False),
        )
        # Every message of the three prompts in one count request, not one round trip each.
        counts = iter(self._engine.count_tokens_many([m.content for p in prompts for m in p]))
        overhead = max(sum(next(counts) for _m in p) for p in prompts)
        budget = self._engine.n_ctx - overhead - TEMPLATE_MARGIN - max(partial, final)
        # Reduce needs room for at least two partial summaries at a time, or it never ends.
        if budget < 2 * (partial + 16):
            raise SummaryError(
                f"The model's context ({self._engine.n_ctx} tokens) is too small for a "
                f"summary of this length; use a larger context or a shorter summary."
            )
        return budget

    # ---- control --------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop soon: the running request is cancelled in the engine, no new one starts."""
        self._cancelled.set()
        with self._lock:
            if self._in_chat:
                self._engine.cancel()

    def uses_chat_prompts(self) -> bool:
        if self.prompts == "auto":
            return follows_chat_prompts(self._engine.info)
        return self.prompts == "chat"

    def _chat(self, prompt: Prompt, max_tokens: int, on_delta: OnDelta | None) -> Done:
        with self._lock:
            self._check()
            self._in_chat = True
        try:
            if prompt.messages:
                return self._engine.chat(
                    prompt.messages,
                    max_tokens=max_tokens,
                    sampling=SAMPLING,
                    on_delta=on_delta,
                    state_key=state_key(prompt),
                    work=Work.SUMMARY,
                )
            if on_delta is not None and prompt.lead:
                on_delta(prompt.lead)
            done = self._engine.complete(
                prompt.text,
                max_tokens=max_tokens,
                sampling=SAMPLING,
                stop=prompt.stop,
                on_delta=on_delta,
                work=Work.SUMMARY,
            )
            return replace(done, text=prompt.lead + done.text) if prompt.lead else done
        except EngineError as exc:
            # A cancel that reached the engine before the request started comes back as an
            # error ("Cancelled before start"); to the user it is a cancel like any other.
            if self._cancelled.is_set():
                raise SummaryCancelled(
                    "The summary was cancelled; finished parts are kept."
                ) from exc
            raise
        finally:
            with self._lock:
                self._in_chat = False

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise SummaryCancelled("The summary was cancelled; finished parts are kept.")

    # ---- the job --------------------------------------------------------------------------

    def summarize(
        self,
        document: Document,
        options: SummaryOptions,
        *,
        on_progress: OnProgress | None = None,
        on_delta: OnDelta | None = None,
        on_chunk: OnChunk | None = None,
    ) -> SummaryResult:
        """`on_delta` streams the final pass; `on_chunk` gets each chunk's summary when done."""
        self._cancelled.clear()
        job = SummaryRun(self, document, options, on_progress, on_delta)
        job.on_chunk = on_chunk
        return job.run()


def state_key(prompt: Prompt) -> str:
    """The KV state key of a chat prompt's fixed part (issue 13): its instructions (the
    system message and the request's wording, without the document's text), so every chunk
    of every document summarized with the same options starts from the engine's kept state
    of them. A base model's text to continue starts with the document: nothing to keep."""
    return fixed_part_key("summary", *prompt.instructions) if prompt.messages else ""
