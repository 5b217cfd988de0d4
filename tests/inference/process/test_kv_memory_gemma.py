"""A KV state restored from disk on a sliding-window model (Gemma 3: 512 positions) holds its
SWA layers' last window only. Continuing it is exact; cutting it further back and continuing
from there would attend to positions it no longer has (wrong logits, measured), so the
prefill reads the prompt again instead. In process, the real Gemma model, greedy."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.process import llama_adapter as adapter
from inference.process import llama_state
from inference.process.kv_memory import holds_prefix
from inference.protocol import EngineSettings
from tests.support.greedy_continuation import greedy_after_prefill

TEXT = (
    "The lighthouse keeper counted the ships that passed each night and wrote their names in "
    "a book that nobody else had ever read. "
)


@pytest.mark.slow
def test_a_restored_state_continues_exactly_and_a_cut_below_its_window_is_read_again(
    gemma_model: Path,
) -> None:
    llm = adapter.load_llama(
        EngineSettings(
            model_path=str(gemma_model), n_ctx=2048, n_batch=512, n_threads=2, n_threads_batch=2
        )
    )
    try:
        ids = llm.tokenize((TEXT * 60).encode(), add_bos=True)
        prompt, tail = ids[:1100], ids[1100:1130]
        edited = ids[:900] + llm.tokenize(b" A storm came in from the west.", add_bos=False)
        list(adapter.prefill_batches(llm, prompt))
        state = bytearray(llama_state.copy_sequence_state(llm))

        assert llama_state.restore_sequence_state(llm, state, prompt)
        assert holds_prefix(llm, len(prompt))  # a continuation needs only the last window
        assert not holds_prefix(llm, 900)  # a cut 200 back needs positions it lacks
        continued = greedy_after_prefill(llm, prompt + tail, 6)
        assert llama_state.restore_sequence_state(llm, state, prompt)
        cut = greedy_after_prefill(llm, edited, 6)

        adapter.clear_kv_cache(llm)
        assert continued == greedy_after_prefill(llm, prompt + tail, 6)
        adapter.clear_kv_cache(llm)
        assert cut == greedy_after_prefill(llm, edited, 6)
    finally:
        llm.close()
