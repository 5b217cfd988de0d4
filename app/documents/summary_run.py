"""One summarize() call: map each chunk, reduce the partial summaries in groups that fit the
context until one pass remains, then the final pass (streamed); every part is stored as soon
as it exists, so a cancelled job resumes with the missing requests only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Protocol

from app.documents.citations import SupportIndex, cite, pieces_of
from app.documents.model import Document, SourceRef
from app.documents.options import SummaryOptions
from app.documents.progress import (
    Progress,
    RunningRequest,
    estimate_reduce_requests,
    seconds_left,
)
from app.documents.prompts import (
    PROMPT_VERSION,
    Prompt,
    blocks,
    final_prompt,
    map_prompt,
    plain_blocks,
    reduce_prompt,
)
from app.documents.splitter import CachedCounter, Chunk, split_sections
from app.documents.summary_json import citation_from_json, citation_json, sources_json
from app.documents.summary_packing import Partial, fit_halves, groups_of, tokens_of
from app.documents.summary_types import (
    ECHO_FAILURE,
    ChunkSummary,
    OnChunk,
    OnDelta,
    OnProgress,
    RequestTiming,
    SummaryCancelled,
    SummaryError,
    SummaryResult,
    SummaryStore,
    model_key,
)
from app.util.instruction_echo import find_echo
from inference.protocol import Done
from inference.sync_client import BlockingEngine
from storage.documents import FinalSummaryRecord, SummaryKey

# While a request runs, progress is reported at most this often (its estimate moves).
REPORT_EVERY_S = 1.0


class SummaryOwner(Protocol):
    """What a run uses of its Summarizer (app/documents/summarizer.py), which starts it."""

    _engine: BlockingEngine
    _store: SummaryStore
    _cancelled: threading.Event

    def answer_tokens(self, options: SummaryOptions) -> tuple[int, int]: ...

    def chunk_budget(self, options: SummaryOptions, title: str = "") -> int: ...

    def uses_chat_prompts(self) -> bool: ...

    def _chat(self, prompt: Prompt, max_tokens: int, on_delta: OnDelta | None) -> Done: ...

    def _check(self) -> None: ...


class SummaryRun:
    """State of one summarize() call, so Summarizer itself stays reusable."""

    def __init__(
        self,
        owner: SummaryOwner,
        document: Document,
        options: SummaryOptions,
        on_progress: OnProgress | None,
        on_delta: OnDelta | None,
    ) -> None:
        self.owner, self.engine, self.store = owner, owner._engine, owner._store
        self.document, self.options = document, options
        self.on_progress, self.on_delta = on_progress, on_delta
        self.started = time.monotonic()
        self.timings: list[RequestTiming] = []
        self.reused = 0
        self.maps_done = 0
        self.chunks: list[Chunk] = []
        self.requests_total = 0
        self.partial_tokens, self.final_tokens = owner.answer_tokens(options)
        self.count = CachedCounter(self.engine.count_tokens, self.engine.count_tokens_many)
        self.chat = owner.uses_chat_prompts()
        self.on_chunk: OnChunk | None = None
        self.running: RunningRequest | None = None
        self.last_report = 0.0
        self.echoed = 0
        self.echo_checked = 0

    # ---- steps ----------------------------------------------------------------------------

    def run(self) -> SummaryResult:
        budget = self.owner.chunk_budget(self.options, self.document.title)
        self.budget = budget
        self.key = SummaryKey(
            self.document.content_hash,
            model_key(self.engine.info),
            self.options.key(budget=budget, prompts=PROMPT_VERSION),
        )
        cached = self.store.get_final(self.key)
        if cached is not None:
            return self._cached_result(cached)

        self._report("split")
        self.chunks = split_sections(self.document.sections, budget, self.count)
        refs = {c.index: c.refs for c in self.chunks}
        if len(self.chunks) == 1:
            self.requests_total = 1
            text = self._final(self.chunks[0].text, whole_document=True)
            return self._finish(text, refs, levels=0)

        per_group = max(2, budget // (self.partial_tokens + 16))
        self.requests_total = (
            len(self.chunks) + estimate_reduce_requests(len(self.chunks), per_group) + 1
        )
        partials = fit_halves(self.count, self.budget, [self._map(chunk) for chunk in self.chunks])
        level = 0
        while tokens_of(self.count, partials) > budget:
            level += 1
            partials = fit_halves(self.count, self.budget, self._reduce_level(partials, level))
        if self.echoed and not any(p.text.strip() for p in partials):
            raise SummaryError(ECHO_FAILURE)
        pairs = [(p.chunk_ids, p.text) for p in partials]
        text = self._final(
            blocks(pairs) if self.chat else plain_blocks(pairs), whole_document=False
        )
        return self._finish(text, refs, levels=level)

    def _map(self, chunk: Chunk) -> Partial:
        ids = (chunk.index,)
        stored = self.store.get_partial(self.key, 0, chunk.index)
        if stored is not None:
            self.reused += 1
            self.maps_done += 1
            self._chunk_done(chunk, stored.text)
            self._report("map")
            return Partial(ids, stored.text)
        words = max(40, self.partial_tokens // 2)
        text = self._request(
            "map",
            0,
            chunk.index,
            map_prompt(self.document.title, chunk.text, words, self.options, chat=self.chat),
            self.partial_tokens,
        )
        self.store.put_partial(self.key, 0, chunk.index, text, sources_json(ids, chunk.refs))
        self.maps_done += 1
        self._chunk_done(chunk, text)
        self._report("map")
        return Partial(ids, text)

    def _chunk_done(self, chunk: Chunk, text: str) -> None:
        if self.on_chunk is not None:
            self.on_chunk(ChunkSummary(chunk.index, len(self.chunks), chunk.refs, text))

    def _reduce_level(self, partials: Sequence[Partial], level: int) -> list[Partial]:
        groups = groups_of(self.count, self.budget, partials)
        if len(groups) >= len(partials):
            raise SummaryError(
                "The partial summaries are too long to combine in this context; use a larger "
                "context or a shorter summary."
            )
        # Now the real number of requests at this level is known.
        later = estimate_reduce_requests(len(groups), max(2, len(partials) // len(groups)))
        self.requests_total = len(self.timings) + self.reused + len(groups) + later + 1
        reduced: list[Partial] = []
        for index, group in enumerate(groups):
            ids = tuple(i for p in group for i in p.chunk_ids)
            stored = self.store.get_partial(self.key, level, index)
            if stored is not None and json.loads(stored.sources_json).get("chunks") == list(ids):
                self.reused += 1
                reduced.append(Partial(ids, stored.text))
                self._report("reduce")
                continue
            words = max(40, self.partial_tokens // 2)
            pairs = [(p.chunk_ids, p.text) for p in group]
            text = blocks(pairs) if self.chat else plain_blocks(pairs)
            answer = self._request(
                "reduce",
                level,
                index,
                reduce_prompt(self.document.title, text, words, self.options, chat=self.chat),
                self.partial_tokens,
            )
            refs = tuple(dict.fromkeys(r for i in ids for r in self.chunks[i].refs))
            self.store.put_partial(self.key, level, index, answer, sources_json(ids, refs))
            reduced.append(Partial(ids, answer))
            self._report("reduce")
        return reduced

    def _final(self, source_text: str, *, whole_document: bool) -> str:
        prompt = final_prompt(
            self.document.title,
            source_text,
            self.options,
            whole_document=whole_document,
            chat=self.chat,
        )
        text = self._request("final", -1, 0, prompt, self.final_tokens, stream=True)
        if not text and self.echoed:
            raise SummaryError(ECHO_FAILURE)
        return text

    # ---- requests -------------------------------------------------------------------------

    def _request(
        self,
        phase: str,
        level: int,
        index: int,
        prompt: Prompt,
        max_tokens: int,
        *,
        stream: bool = False,
    ) -> str:
        """The answer to `prompt`, without any echo of the instructions ("" when it was
        nothing else)."""
        self.owner._check()
        self.running = RunningRequest(time.monotonic(), None, 0, max_tokens)
        self._report(phase)
        began = time.perf_counter()
        forward = self.on_delta if stream else None

        def measure(delta: str) -> None:
            # Every request streams, so its speed is measured as it runs (progress.py).
            running = self.running
            if running is not None:
                now = time.monotonic()
                first = running.first_token if running.first_token is not None else now
                self.running = replace(running, first_token=first, tokens=running.tokens + 1)
                if now - self.last_report >= REPORT_EVERY_S:
                    self._report(phase)
            if forward is not None:
                forward(delta)

        try:
            done = self.owner._chat(prompt, max_tokens, measure)
        finally:
            self.running = None
        wall_ms = (time.perf_counter() - began) * 1000
        # A cancelled reply is incomplete: never store it.
        if done.stats.stop_reason == "cancelled" or self.owner._cancelled.is_set():
            raise SummaryCancelled("The summary was cancelled; finished parts are kept.")
        # The engine's own clock around its token loop (prefill, decode, sampling): llama.cpp's
        # perf counters are process-global and can be skewed by the engine's warm-up of the
        # next turn, so they are not a sound per-request figure.
        engine_ms = done.stats.total_ms
        self.timings.append(
            RequestTiming(
                phase,
                level,
                index,
                done.stats.prompt_tokens,
                done.stats.completion_tokens,
                engine_ms,
                wall_ms,
            )
        )
        check = find_echo(done.text, prompt.instructions)
        self.echo_checked += 1
        self.echoed += check.found
        # What is left of an answer after its echo is cut out still says something of the
        # document; too little left and it says nothing.
        return check.text.strip() if not check.found or check.has_text else ""

    def _report(self, phase: str) -> None:
        if self.on_progress is None:
            return
        done_requests = len(self.timings) + self.reused
        now = time.monotonic()
        self.last_report = now
        left = seconds_left(
            [t.wall_ms / 1000 for t in self.timings],
            max(0, self.requests_total - done_requests),
            self.running,
            now,
        )
        if phase == "done":
            left = None
        self.on_progress(
            Progress(
                phase=phase,
                chunks_done=self.maps_done,
                chunks_total=len(self.chunks),
                requests_done=done_requests,
                requests_total=max(self.requests_total, done_requests),
                tokens_in=sum(t.prompt_tokens for t in self.timings),
                tokens_out=sum(t.completion_tokens for t in self.timings),
                seconds_left=left,
            )
        )

    # ---- results --------------------------------------------------------------------------

    def _finish(
        self,
        text: str,
        refs: dict[int, tuple[SourceRef, ...]],
        *,
        levels: int,
    ) -> SummaryResult:
        citations = cite(text, self._support_index(), refs)
        result = SummaryResult(
            text=text,
            citations=citations,
            chunks=len(self.chunks),
            levels=levels,
            tokens_in=sum(t.prompt_tokens for t in self.timings),
            tokens_out=sum(t.completion_tokens for t in self.timings),
            seconds=time.monotonic() - self.started,
            requests=list(self.timings),
            reused=self.reused,
            spans=tuple((c.start, c.end) for c in self.chunks),
            echoed=self.echoed,
            echo_checked=self.echo_checked,
        )
        self.store.put_final(
            self.key,
            text,
            json.dumps([citation_json(c) for c in citations], ensure_ascii=False),
            json.dumps(
                {
                    "chunks": result.chunks,
                    "levels": levels,
                    "tokens_in": result.tokens_in,
                    "tokens_out": result.tokens_out,
                    "seconds": result.seconds,
                    "requests": [asdict(t) for t in self.timings],
                    "spans": [list(span) for span in result.spans],
                }
            ),
        )
        self._report("done")
        return result

    def _support_index(self) -> SupportIndex:
        """The document cut into (chunk, page or section) pieces, to tie points to."""
        sections = []
        offset = 0
        for section in self.document.sections:
            ref = SourceRef(section.page, section.heading_path)
            sections.append((offset, offset + len(section.text), ref))
            offset += len(section.text) + 2  # Document.text joins sections with a blank line
        chunks = [(c.index, c.start, c.end) for c in self.chunks]
        return SupportIndex(pieces_of(self.document.text, chunks, sections))

    def _cached_result(self, cached: FinalSummaryRecord) -> SummaryResult:
        text = cached.text
        timing = json.loads(cached.timing_json)
        citations = [citation_from_json(c) for c in json.loads(cached.citations_json)]
        if self.on_delta is not None:
            self.on_delta(text)
        self.chunks = []
        result = SummaryResult(
            text=text,
            citations=citations,
            chunks=int(timing.get("chunks", 0)),
            levels=int(timing.get("levels", 0)),
            tokens_in=0,
            tokens_out=0,
            seconds=time.monotonic() - self.started,
            from_cache=True,
            spans=tuple((int(a), int(b)) for a, b in timing.get("spans", [])),
        )
        self._report("done")
        return result
