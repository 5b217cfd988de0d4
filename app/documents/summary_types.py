"""What a summary job hands back and where it keeps its parts: results, errors, the store it
writes to and the callbacks it reports through (the pipeline is in summary_run.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from app.documents.citations import Citation
from app.documents.model import SourceRef
from app.documents.progress import Progress
from inference.protocol import ModelInfo
from storage.documents import ChunkSummaryRecord, FinalSummaryRecord, SummaryKey

ECHO_FAILURE = (
    "The model repeated its instructions instead of summarizing, so there is no summary. "
    "A chat (instruction-tuned) model works better: choose one on the Models page."
)


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


def model_key(info: ModelInfo | None) -> str:
    if info is None:
        return "unknown"
    return f"{info.name} {info.quantization}" if info.quantization else info.name
