"""Whole-document summarization: map each chunk, reduce the partial summaries in groups that
fit the context until one pass remains, then the final pass (streamed).

Runs on one worker thread; `cancel()` may be called from any other thread. Every partial
summary is stored as soon as it exists, keyed by (document hash, model, options, level,
index), so a cancelled or crashed job resumes with the missing requests only, and a repeated
one returns the stored final summary without a request.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

from app.documents.citations import Citation, SupportIndex, cite, pieces_of
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
    final_messages,
    final_prompt,
    map_messages,
    map_prompt,
    plain_blocks,
    reduce_messages,
    reduce_prompt,
)
from app.documents.splitter import CachedCounter, Chunk, split_sections
from app.util.instruction_echo import find_echo, follows_chat_prompts
from inference.protocol import Done, ModelInfo, Sampling
from inference.sync_client import BlockingEngine, EngineError
from storage.documents import ChunkSummaryRecord, FinalSummaryRecord, SummaryKey

# Chat-template tokens around each message (role markers, turn ends) that counting the
# message text alone does not see; generous so no request overflows the context.
TEMPLATE_MARGIN = 64
SAMPLING = Sampling(temperature=0.2, top_p=0.9, top_k=40, min_p=0.05, repeat_penalty=1.1)
ECHO_FAILURE = (
    "The model repeated its instructions instead of summarizing, so there is no summary. "
    "A chat (instruction-tuned) model works better: choose one on the Models page."
)
# "auto": chat prompts for models with their own chat template, completion prompts for the
# rest (app/util/instruction_echo.py); "chat" / "completion" force one (benchmarks, tests).
PROMPT_STYLES = ("auto", "chat", "completion")


class SummaryStore(Protocol):
    """Where partial and final summaries live: storage.documents.DocumentRepository fits."""

    def get_partial(self, key: SummaryKey, level: int, index: int) -> ChunkSummaryRecord | None: ...

    def put_partial(
        self, key: SummaryKey, level: int, index: int, text: str, sources_json: str
    ) -> object: ...

    def get_final(self, key: SummaryKey) -> FinalSummaryRecord | None: ...

    def put_final(
        self, key: SummaryKey, text: str, citations_json: str, timing_json: str
    ) -> object: ...


class SummaryCancelled(Exception):
    """The job was cancelled; what was finished is stored and the next run resumes."""


class SummaryError(Exception):
    """A summary that cannot be made as asked (context too small for the prompts)."""


@dataclass(frozen=True)
class RequestTiming:
    """One engine request: the engine's own times (llama.cpp counters when present) and the
    wall time this process saw, so a benchmark can tell pipeline overhead from model time."""

    phase: str
    level: int
    index: int
    prompt_tokens: int
    completion_tokens: int
    engine_ms: float
    wall_ms: float


@dataclass(frozen=True)
class SummaryResult:
    text: str
    citations: list[Citation]
    chunks: int
    levels: int  # reduce levels used (0: the partials fitted one final pass, or one pass)
    tokens_in: int
    tokens_out: int
    seconds: float
    requests: list[RequestTiming] = field(default_factory=list)
    reused: int = 0  # partial summaries taken from the store instead of the engine
    from_cache: bool = False  # the whole final summary came from the store
    # (start, end) of each chunk in Document.text, by chunk index: lets a viewer show the
    # exact passage a citation points to. Empty for summaries stored before it was kept.
    spans: tuple[tuple[int, int], ...] = ()
    # Requests whose answer repeated Hearth's instructions (taken out before use), of all.
    echoed: int = 0
    echo_checked: int = 0

    @property
    def echo_note(self) -> str:
        """A plain sentence for the user when some answers were the instructions again."""
        if not self.echoed:
            return ""
        return (
            f"The model repeated its instructions in {self.echoed} of {self.echo_checked} "
            "answers; that text was left out of the summary. A chat (instruction-tuned) "
            "model works better."
        )

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_out / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Partial:
    chunk_ids: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class ChunkSummary:
    """One chunk's summary, handed out as soon as it exists (or was found stored)."""

    index: int
    total: int
    refs: tuple[SourceRef, ...]
    text: str


OnProgress = Callable[[Progress], None]
OnDelta = Callable[[str], None]
OnChunk = Callable[[ChunkSummary], None]
# While a request runs, progress is reported at most this often (its estimate moves).
REPORT_EVERY_S = 1.0


def model_key(info: ModelInfo | None) -> str:
    if info is None:
        return "unknown"
    return f"{info.name} {info.quantization}" if info.quantization else info.name


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
                    prompt.messages, max_tokens=max_tokens, sampling=SAMPLING, on_delta=on_delta
                )
            if on_delta is not None and prompt.lead:
                on_delta(prompt.lead)
            done = self._engine.complete(
                prompt.text,
                max_tokens=max_tokens,
                sampling=SAMPLING,
                stop=prompt.stop,
                on_delta=on_delta,
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
        job = _SummaryRun(self, document, options, on_progress, on_delta)
        job.on_chunk = on_chunk
        return job.run()


class _SummaryRun:
    """State of one summarize() call, so Summarizer itself stays reusable."""

    def __init__(
        self,
        owner: Summarizer,
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
        partials = self._fit_halves([self._map(chunk) for chunk in self.chunks])
        level = 0
        while self._tokens_of(partials) > budget:
            level += 1
            partials = self._fit_halves(self._reduce_level(partials, level))
        if self.echoed and not any(p.text.strip() for p in partials):
            raise SummaryError(ECHO_FAILURE)
        pairs = [(p.chunk_ids, p.text) for p in partials]
        text = self._final(
            blocks(pairs) if self.chat else plain_blocks(pairs), whole_document=False
        )
        return self._finish(text, refs, levels=level)

    def _map(self, chunk: Chunk) -> _Partial:
        ids = (chunk.index,)
        stored = self.store.get_partial(self.key, 0, chunk.index)
        if stored is not None:
            self.reused += 1
            self.maps_done += 1
            self._chunk_done(chunk, stored.text)
            self._report("map")
            return _Partial(ids, stored.text)
        words = max(40, self.partial_tokens // 2)
        text = self._request(
            "map",
            0,
            chunk.index,
            map_prompt(self.document.title, chunk.text, words, self.options, chat=self.chat),
            self.partial_tokens,
        )
        self.store.put_partial(self.key, 0, chunk.index, text, _sources_json(ids, chunk.refs))
        self.maps_done += 1
        self._chunk_done(chunk, text)
        self._report("map")
        return _Partial(ids, text)

    def _chunk_done(self, chunk: Chunk, text: str) -> None:
        if self.on_chunk is not None:
            self.on_chunk(ChunkSummary(chunk.index, len(self.chunks), chunk.refs, text))

    def _tokens_of(self, partials: Sequence[_Partial]) -> int:
        return self.count(blocks([(p.chunk_ids, p.text) for p in partials]))

    def _fit_halves(self, partials: Sequence[_Partial]) -> list[_Partial]:
        # One batch for the blocks that _fit_half, _groups and _tokens_of all count.
        self.count.prime(blocks([(p.chunk_ids, p.text)]) for p in partials)
        return [self._fit_half(p) for p in partials]

    def _fit_half(self, partial: _Partial) -> _Partial:
        """A partial summary longer than half the budget (a model that rambled, or text that
        re-tokenizes longer than it was generated) is cut at a word so two always fit a group;
        otherwise the reduction could not shrink. Deterministic, so resume still matches."""
        limit = self.budget // 2 - 16
        if self.count(blocks([(partial.chunk_ids, partial.text)])) <= limit:
            return partial
        ends = [m.end() for m in re.finditer(r"\S+", partial.text)]
        low, high, best = 0, len(ends) - 1, 0
        while low <= high:
            middle = (low + high) // 2
            text = partial.text[: ends[middle]]
            if self.count(blocks([(partial.chunk_ids, text)])) <= limit:
                best, low = ends[middle], middle + 1
            else:
                high = middle - 1
        return _Partial(partial.chunk_ids, partial.text[:best])

    def _groups(self, partials: Sequence[_Partial]) -> list[list[_Partial]]:
        """Consecutive partials packed greedily into groups whose prompt text fits."""
        groups: list[list[_Partial]] = []
        current: list[_Partial] = []
        used = 0
        for partial in partials:
            size = self.count(blocks([(partial.chunk_ids, partial.text)])) + 2
            if current and used + size > self.budget:
                groups.append(current)
                current, used = [], 0
            current.append(partial)
            used += size
        if current:
            groups.append(current)
        return groups

    def _reduce_level(self, partials: Sequence[_Partial], level: int) -> list[_Partial]:
        groups = self._groups(partials)
        if len(groups) >= len(partials):
            raise SummaryError(
                "The partial summaries are too long to combine in this context; use a larger "
                "context or a shorter summary."
            )
        # Now the real number of requests at this level is known.
        later = estimate_reduce_requests(len(groups), max(2, len(partials) // len(groups)))
        self.requests_total = len(self.timings) + self.reused + len(groups) + later + 1
        reduced: list[_Partial] = []
        for index, group in enumerate(groups):
            ids = tuple(i for p in group for i in p.chunk_ids)
            stored = self.store.get_partial(self.key, level, index)
            if stored is not None and json.loads(stored.sources_json).get("chunks") == list(ids):
                self.reused += 1
                reduced.append(_Partial(ids, stored.text))
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
            self.store.put_partial(self.key, level, index, answer, _sources_json(ids, refs))
            reduced.append(_Partial(ids, answer))
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
            json.dumps([_citation_json(c) for c in citations], ensure_ascii=False),
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
        citations = [_citation_from_json(c) for c in json.loads(cached.citations_json)]
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


def _ref_json(ref: SourceRef) -> dict[str, object]:
    return {"page": ref.page, "heading": list(ref.heading_path)}


def _sources_json(ids: Sequence[int], refs: Sequence[SourceRef]) -> str:
    return json.dumps({"chunks": list(ids), "refs": [_ref_json(r) for r in refs]})


def _citation_json(citation: Citation) -> dict[str, object]:
    return {
        "point": citation.point,
        "text": citation.text,
        "chunks": list(citation.chunk_ids),
        "refs": [_ref_json(r) for r in citation.refs],
        "labels": [r.label for r in citation.refs],
        "tagged": citation.tagged,
    }


def _citation_from_json(data: dict[str, object]) -> Citation:
    refs = tuple(
        SourceRef(r["page"], tuple(r["heading"]))  # type: ignore[index]
        for r in data["refs"]  # type: ignore[union-attr]
    )
    return Citation(
        int(data["point"]),  # type: ignore[call-overload]
        str(data["text"]),
        tuple(data["chunks"]),  # type: ignore[arg-type]
        refs,
        bool(data["tagged"]),
    )


def citation_json(citation: Citation) -> dict[str, object]:
    """The JSON shape of a citation (for the CLI's --json and for storage)."""
    return _citation_json(citation)


def citation_from_json(data: dict[str, object]) -> Citation:
    """A citation back from its JSON shape (a stored final summary's citations)."""
    return _citation_from_json(data)
