"""The request-log records the engine process keeps: one per generation, and one per load
or failed request that generated nothing."""

from __future__ import annotations

import time

from inference.process.generation import Generation
from inference.process.model_load import LoadedModel
from inference.protocol import (
    CompletionRequest,
    GenerateRequest,
    GenerationStats,
    LoadRequest,
    Priority,
    Request,
    RequestLogRequest,
    RequestRecord,
    TokenizeRequest,
)


def plain_record(
    request: Request, kind: str, stop_reason: str, started: float, model: str
) -> RequestRecord:
    return RequestRecord(
        id=request.id,
        kind=kind,
        priority=int(getattr(request, "priority", Priority.INTERACTIVE)),
        model=model,
        prompt_tokens=0,
        prompt_tokens_evaluated=0,
        completion_tokens=0,
        stop_reason=stop_reason,
        preemptions=0,
        total_ms=(time.perf_counter() - started) * 1000,
    )


def generation_record(
    generation: Generation, stats: GenerationStats | None, keeps_text: bool
) -> RequestRecord:
    request = generation.request
    model = generation.model
    assert isinstance(model, LoadedModel)
    prompt = reply = None
    if keeps_text:
        # Exactly what the model saw, template and all.
        prompt = model.llm.detokenize(request.prompt, special=True).decode("utf-8", "replace")
        reply = generation.text
    return RequestRecord(
        id=request.id,
        kind=request.kind,
        priority=request.priority,
        model=model.info.name,
        prompt_tokens=len(request.prompt),
        prompt_tokens_evaluated=stats.prompt_tokens_evaluated if stats else 0,
        completion_tokens=len(generation.ids),
        stop_reason=generation.stop_reason,
        preemptions=generation.preemptions,
        total_ms=stats.total_ms if stats else 0.0,
        prompt=prompt,
        reply=reply,
    )


def item_kind(item: Request | Generation) -> tuple[str, int]:
    """What a queued item is, for the timelines of the requests that waited behind it."""
    if isinstance(item, Generation):
        return item.request.kind, item.request.priority
    kind = KINDS.get(type(item), type(item).__name__.removesuffix("Request").lower())
    return kind, int(getattr(item, "priority", Priority.INTERACTIVE))


KINDS: dict[type, str] = {
    LoadRequest: "load",
    GenerateRequest: "chat",
    CompletionRequest: "completion",
    TokenizeRequest: "tokenize",
    RequestLogRequest: "request_log",
}
