"""Flash attention's three settings (issue 13): auto (the default) reaches llama.cpp as its own
auto, the value llama.cpp resolved comes back in ModelInfo through a real engine process, and
a quantized V cache loads with auto, which llama.cpp turns on for it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.kv_cache_rules import QUANTIZED_V_NEEDS_FLASH, flash_attn_mode, kv_cache_refusal
from inference.process.flash_attention import resolved_from_logs
from inference.process.kv_state_identity import model_identity
from inference.process.llama_logs import context_error_from_logs
from inference.protocol import ChatMessage, Done, EngineSettings, Error, ModelInfo
from tests.support.engine_helpers import chat, load
from tests.support.tiny_gguf import build_tiny_model

HI = [ChatMessage("user", "hi")]


@pytest.fixture(scope="module")
def wide_heads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """32-wide heads: a block of q8_0 fits one head, so flash attention can hold it."""
    path = tmp_path_factory.mktemp("fa") / "tiny-wide-heads.gguf"
    return build_tiny_model(path, n_head=2, n_head_kv=2)


def test_the_resolved_value_reaches_model_info(engine: EngineProcess, tiny_model: Path) -> None:
    """On a CPU llama.cpp's auto turns flash attention on; on and off stay as asked, and a
    bool from an older caller still means on/off."""
    for setting, resolved in (("auto", "on"), ("on", "on"), ("off", "off"), (False, "off")):
        info = load(engine, tiny_model, n_ctx=512, flash_attn=setting)
        assert isinstance(info, ModelInfo), info
        assert info.flash_attn == resolved, setting
    assert EngineSettings(model_path="m.gguf").flash_attn == "auto"


def test_a_quantized_v_cache_loads_with_auto(engine: EngineProcess, wide_heads: Path) -> None:
    info = load(engine, wide_heads, n_ctx=512, type_k="q8_0", type_v="q8_0")
    assert isinstance(info, ModelInfo), info
    assert info.flash_attn == "on"
    _, done = chat(engine, HI, max_tokens=4)
    assert isinstance(done, Done)
    refused = load(engine, wide_heads, n_ctx=512, type_v="q8_0", flash_attn="off")
    assert isinstance(refused, Error) and refused.message == QUANTIZED_V_NEEDS_FLASH + "."


def test_refusal_rules_read_the_three_settings() -> None:
    assert kv_cache_refusal("f16", "q8_0", "auto", head_dim_k=64, head_dim_v=64) == ""
    assert kv_cache_refusal("f16", "q8_0", "on") == ""
    assert kv_cache_refusal("f16", "q8_0", "off") == QUANTIZED_V_NEEDS_FLASH
    # Auto is on for a CPU: a block wider than the head is refused as with on.
    narrow = kv_cache_refusal("q8_0", "f16", "auto", head_dim_k=16, head_dim_v=16)
    assert "keep K at f16" in narrow
    assert kv_cache_refusal("q8_0", "f16", "off", head_dim_k=16, head_dim_v=16) == ""


def test_modes_and_old_bools() -> None:
    assert [flash_attn_mode(v) for v in (None, True, False, "AUTO", "on", "off")] == [
        "auto", "on", "off", "auto", "on", "off",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        flash_attn_mode("sometimes")
    with pytest.raises(ValueError):
        flash_attn_mode(1)


def test_what_auto_became_is_read_from_llama_cpps_log() -> None:
    enabled = "llama_context: flash_attn = auto\nresolve_fused_ops: Flash Attention enabled\n"
    assert resolved_from_logs("auto", enabled) == "on"
    disabled = "resolve_fused_ops: Flash Attention not supported, set to disabled\n"
    assert resolved_from_logs("auto", disabled) == "off"
    quantized_v = (
        "llama_init_from_model: enabling flash_attn since it is required for quantized V cache\n"
        "llama_context: flash_attn            = enabled\n"
    )
    assert resolved_from_logs("auto", quantized_v) == "on"
    assert resolved_from_logs("auto", "") == "off"  # nothing said: the safe side
    assert resolved_from_logs("on", "") == "on" and resolved_from_logs("off", enabled) == "off"


def test_a_kept_states_identity_holds_the_resolved_value(tmp_path: Path) -> None:
    """As a bool, as states saved before the three settings hold it: a state saved with flash
    attention off still matches an auto that resolved off."""
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(64))
    settings = EngineSettings(model_path=str(model))

    def identity(resolved: str) -> object:
        return model_identity(replace(settings, flash_attn=resolved), 512, "chatml", "0", "")

    assert identity("on")["flash_attn"] is True  # type: ignore[index]
    assert identity("off")["flash_attn"] is False  # type: ignore[index]


def test_a_quantized_v_that_auto_could_not_serve_is_explained_after_the_load() -> None:
    """Where auto meets a device without flash attention, only the load can tell: llama.cpp's
    note that it turned flash attention on is not given as the reason."""
    note = "llama_init_from_model: enabling flash_attn since it is required for quantized V cache\n"
    assert "keep V at f16" in context_error_from_logs(note)
    memory = note + "llama_init_from_model: failed to initialize the context: boom\n"
    assert context_error_from_logs(memory) == "failed to initialize the context: boom"
