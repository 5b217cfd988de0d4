"""KV cache types at load: what llama.cpp refuses gets a plain message before it sees it, the
engine stays usable, and the cache shrinks by the type's bytes per element (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.kv_cache_rules import QUANTIZED_V_NEEDS_FLASH, kv_cache_refusal
from inference.protocol import (
    ChatMessage,
    Done,
    Error,
    ErrorKind,
    ModelInfo,
)
from tests.support.engine_helpers import chat, load
from tests.support.tiny_gguf import build_tiny_model

HI = [ChatMessage("user", "hi")]


@pytest.fixture(scope="module")
def wide_heads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """32-wide heads: a block of q8_0/q4_0 fits one head, so flash attention can hold them."""
    path = tmp_path_factory.mktemp("kv") / "tiny-wide-heads.gguf"
    return build_tiny_model(path, n_head=2, n_head_kv=2)


def test_quantized_v_without_flash_attention_is_refused_plainly_and_engine_stays_usable(
    engine: EngineProcess, wide_heads: Path
) -> None:
    refused = load(engine, wide_heads, n_ctx=512, type_v="q8_0", flash_attn=False)
    assert isinstance(refused, Error)
    assert refused.kind == ErrorKind.BAD_REQUEST
    assert refused.message == QUANTIZED_V_NEEDS_FLASH + "."
    assert engine.running
    info = load(engine, wide_heads, n_ctx=512, type_v="f16", flash_attn=False)
    assert isinstance(info, ModelInfo)
    _, done = chat(engine, HI, max_tokens=4)
    assert isinstance(done, Done)


def test_heads_too_narrow_for_a_quantized_cache_with_flash_attention_are_refused(
    engine: EngineProcess, tiny_model: Path
) -> None:
    refused = load(engine, tiny_model, n_ctx=512, type_k="q8_0", type_v="q8_0", flash_attn=True)
    assert isinstance(refused, Error)
    assert "heads are 16 wide" in refused.message and "keep K at f16" in refused.message
    assert isinstance(load(engine, tiny_model, n_ctx=512), ModelInfo)


def test_quantized_caches_load_and_shrink_by_their_bytes_per_element(
    engine: EngineProcess, wide_heads: Path
) -> None:
    sizes = {}
    for k, v, fa in (("f16", "f16", True), ("q8_0", "q8_0", True), ("q4_0", "q4_0", True)):
        info = load(engine, wide_heads, n_ctx=1024, type_k=k, type_v=v, flash_attn=fa)
        assert isinstance(info, ModelInfo), info
        _, done = chat(engine, HI, max_tokens=4)
        assert isinstance(done, Done)
        sizes[k] = info.memory.kv_ram
    # llama.cpp reports MiB with two decimals: compare within that rounding.
    rounding = 0.01 * (1 << 20)
    assert sizes["q8_0"] == pytest.approx(sizes["f16"] * 34 / 64, abs=rounding)
    assert sizes["q4_0"] == pytest.approx(sizes["f16"] * 18 / 64, abs=rounding)


def test_refusal_rules_without_an_engine() -> None:
    assert kv_cache_refusal("q8_0", "f16", False) == ""
    assert kv_cache_refusal("f16", "q4_0", False) == QUANTIZED_V_NEEDS_FLASH
    assert kv_cache_refusal("q8_0", "q8_0", True, head_dim_k=64, head_dim_v=64) == ""
    assert "keep V at f16" in kv_cache_refusal("f16", "q4_0", True, head_dim_k=16, head_dim_v=16)
    assert kv_cache_refusal("f16", "q9_9", True).startswith("Unknown KV cache type 'q9_9'")
