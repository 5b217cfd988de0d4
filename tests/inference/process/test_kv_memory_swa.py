"""The sliding-window rules of kv_memory.py on a tiny Gemma 3 (a 16-position window), in
every run: a state restored from disk holds its SWA layers' last window only; continuing it
is exact, and a cut further back than the window is read again, never continued from
positions it lacks. (The same on the real Gemma: test_kv_memory_gemma.py, slow.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_cpp import llama_cpp as llama_lib

from inference.process import llama_adapter as adapter
from inference.process import llama_state
from inference.process.kv_memory import cut_cache, holds_prefix
from inference.protocol import EngineSettings
from tests.support.greedy_continuation import greedy_after_prefill
from tests.support.tiny_swa_gguf import build_tiny_swa_model

WINDOW = 16
TEXT = b"the cat sat on the mat and the dog ran to the door of the old mill "


@pytest.fixture(scope="module")
def swa_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_swa_model(tmp_path_factory.mktemp("swa") / "tiny-swa.gguf", window=WINDOW)


def test_the_tiny_model_is_a_sliding_window_model(swa_model: Path) -> None:
    llm = adapter.load_llama(EngineSettings(model_path=str(swa_model), n_ctx=512))
    try:
        assert llama_lib.llama_model_n_swa(llm.model) == WINDOW
    finally:
        llm.close()


def test_a_restored_state_continues_exactly_and_a_cut_below_its_window_is_read_again(
    swa_model: Path,
) -> None:
    llm = adapter.load_llama(EngineSettings(model_path=str(swa_model), n_ctx=512, n_batch=32))
    try:
        ids = llm.tokenize(TEXT * 12, add_bos=True)
        prompt, tail = ids[:120], ids[120:130]
        edited = ids[:90] + llm.tokenize(b" a storm came in", add_bos=False)
        list(adapter.prefill_batches(llm, prompt))
        state = bytearray(llama_state.copy_sequence_state(llm))

        assert llama_state.restore_sequence_state(llm, state, prompt)
        assert holds_prefix(llm, len(prompt))  # a continuation needs only the last window
        assert not holds_prefix(llm, 90)  # 30 back: positions the window no longer has
        assert not cut_cache(llm, 90)  # refused, the cache left as it was
        assert llm.n_tokens == len(prompt)
        continued = greedy_after_prefill(llm, prompt + tail, 8)
        assert llama_state.restore_sequence_state(llm, state, prompt)
        cut = greedy_after_prefill(llm, edited, 8)  # read again, not continued from 90

        adapter.clear_kv_cache(llm)
        assert continued == greedy_after_prefill(llm, prompt + tail, 8)
        adapter.clear_kv_cache(llm)
        assert cut == greedy_after_prefill(llm, edited, 8)
    finally:
        llm.close()
