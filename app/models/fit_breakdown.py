"""Sentences of the fit estimate's breakdown, from a MemoryEstimate (app/models/fit.py): the
KV cache with what its types save, and the draft model's share (issue 13). Pure; any thread."""

from __future__ import annotations

from app.models.fit import MemoryEstimate, human_bytes


def kv_cache_text(estimate: MemoryEstimate) -> str:
    """The KV cache's size and what its types save against f16, for the fit breakdown:
    "KV cache 72.0 MiB (q8_0/q8_0: saves 63.8 MiB against f16)"."""
    text = f"KV cache {human_bytes(estimate.kv_bytes)}"
    if (estimate.type_k, estimate.type_v) == ("f16", "f16"):
        return text
    types = f"{estimate.type_k}/{estimate.type_v}"
    saved = estimate.kv_saved
    if saved:
        return f"{text} ({types}: saves {human_bytes(saved)} against f16)"
    extra = max(0, estimate.kv_bytes - estimate.kv_f16)
    return f"{text} ({types}: {human_bytes(extra)} more than f16)" if extra else text


def draft_memory_text(estimate: MemoryEstimate) -> str:
    """What the draft model loaded beside the main one adds to `estimate` (its `draft`, already
    counted in the verdict), "" without one: "The draft model adds 40.0 MiB (weights 30.0 MiB,
    KV cache 8.0 MiB)."."""
    draft = estimate.draft
    if draft is None:
        return ""
    weights = draft.weights_cpu + draft.weights_gpu
    total = draft.ram_bytes + draft.vram_bytes
    return (
        f"The draft model adds {human_bytes(total)} (weights {human_bytes(weights)}, "
        f"KV cache {human_bytes(draft.kv_bytes)})."
    )
