"""Greedy tokens after reading a prompt the engine's way (adapter.prefill_batches, which
reuses or cuts back the live cache first), for the kept-state and sliding-window tests that
compare a continuation with a full prefill."""

from __future__ import annotations

from llama_cpp import Llama

from inference.process import llama_adapter as adapter


def greedy_after_prefill(llm: Llama, prompt: list[int], n: int) -> list[int]:
    """The first `n` greedy tokens after `prompt`."""
    list(adapter.prefill_batches(llm, prompt))
    generator = llm.generate(prompt, temp=0.0, top_k=1)
    try:
        return [t for _, t in zip(range(n), generator, strict=False)]
    finally:
        generator.close()
