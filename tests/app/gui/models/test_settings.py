"""Per-model settings: the JSON store, merging with the global settings, and the chat-format
override the engine understands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config.settings import Settings
from app.gui.models.form_values import settings_from_values, settings_values
from app.models.settings import (
    AUTO,
    CUSTOM,
    ModelSettings,
    ModelSettingsStore,
    engine_settings_for,
    load_model_settings,
)
from inference.process.llama_logs import memory_from_logs, offloaded_from_logs
from inference.protocol import EngineSettings, Sampling
from inference.templates import PromptFormatError, format_for_override
from tests.support.model_templates import CHATML_TEMPLATE

MIB = 1 << 20


def test_store_round_trip_keyed_by_the_resolved_path(tmp_path: Path) -> None:
    store = ModelSettingsStore(tmp_path)
    model = tmp_path / "models" / "a.gguf"
    own = ModelSettings(n_ctx=8192, n_gpu_layers=AUTO, chat_format="gemma", temperature=0.3)
    store.put(model, own)
    relative_view = tmp_path / "models" / ".." / "models" / "a.gguf"
    assert store.get(relative_view) == own
    assert load_model_settings(tmp_path, model) == own
    assert store.get(tmp_path / "other.gguf") == ModelSettings()
    raw = json.loads((tmp_path / "model_settings.json").read_text())
    assert raw["models"][str(model.resolve())] == {
        "n_ctx": 8192,
        "n_gpu_layers": "auto",
        "chat_format": "gemma",
        "temperature": 0.3,
    }
    store.put(model, ModelSettings())  # nothing left to store: the entry goes
    assert json.loads((tmp_path / "model_settings.json").read_text())["models"] == {}


def test_damaged_or_hand_edited_files_read_as_defaults(tmp_path: Path) -> None:
    path = tmp_path / "model_settings.json"
    path.write_text("{not json")
    assert ModelSettingsStore(tmp_path).get("/m.gguf") == ModelSettings()
    key = str(Path("/m.gguf").resolve())
    path.write_text(
        json.dumps(
            {
                "models": {
                    key: {
                        "n_ctx": "big",
                        "n_gpu_layers": "most",
                        "flash_attn": 1,
                        "top_k": True,
                        "temperature": 1,
                        "unknown": 3,
                    }
                }
            }
        )
    )
    assert ModelSettingsStore(tmp_path).get("/m.gguf") == ModelSettings(temperature=1.0)


def test_a_models_flash_attention_reads_old_bools_and_the_three_settings(
    tmp_path: Path,
) -> None:
    """Per model a value was stored only when it differed from the global one, so an old
    bool was a choice: true reads as on, false as off."""
    path = tmp_path / "model_settings.json"
    values = {"/a.gguf": True, "/b.gguf": False, "/c.gguf": "auto", "/d.gguf": "maybe"}
    models = {str(Path(k).resolve()): {"flash_attn": v} for k, v in values.items()}
    path.write_text(json.dumps({"version": 1, "models": models}))
    store = ModelSettingsStore(tmp_path)
    assert [store.get(k).flash_attn for k in values] == ["on", "off", "auto", None]
    engine, _, _ = engine_settings_for(Settings(), "/b.gguf", store.get("/b.gguf"))
    assert engine.flash_attn == "off"
    default, _, _ = engine_settings_for(Settings(), "/d.gguf", store.get("/d.gguf"))
    assert default.flash_attn == "auto"
    store.put("/a.gguf", store.get("/a.gguf"))
    assert json.loads(path.read_text())["models"][str(Path("/a.gguf").resolve())] == {
        "flash_attn": "on"
    }


def test_engine_settings_for_puts_the_model_values_over_the_global_ones() -> None:
    settings = Settings(
        n_ctx=4096, n_gpu_layers=0, n_threads_batch=2, n_batch=256, temperature=0.7, top_k=40
    )
    own = ModelSettings(
        n_ctx=2048,
        n_threads=3,
        n_gpu_layers=-1,
        flash_attn=True,
        chat_format="chatml",
        system_prompt="Be brief.",
        temperature=0.1,
        seed=42,
    )
    engine, sampling, prompt = engine_settings_for(settings, "/m.gguf", own)
    assert engine == EngineSettings(
        model_path="/m.gguf",
        n_ctx=2048,
        n_gpu_layers=-1,
        n_threads=3,
        n_threads_batch=2,
        n_batch=256,
        flash_attn="on",
        seed=42,
        chat_format="chatml",
    )
    assert sampling == Sampling(
        temperature=0.1, top_p=0.95, top_k=40, min_p=0.05, repeat_penalty=1.1, seed=42
    )
    assert prompt == "Be brief."
    # Nothing set for the model: exactly the global settings.
    engine, sampling, prompt = engine_settings_for(settings, "/m.gguf", None)
    assert (engine.n_ctx, engine.n_gpu_layers, engine.chat_format) == (4096, 0, "auto")
    assert sampling.temperature == 0.7 and sampling.seed is None and prompt is None


def test_auto_gpu_layers_and_custom_template_are_resolved() -> None:
    seen: list[EngineSettings] = []

    def auto(engine: EngineSettings) -> int:
        seen.append(engine)
        return 17

    own = ModelSettings(
        n_ctx=1024, n_gpu_layers=AUTO, chat_format=CUSTOM, custom_template=CHATML_TEMPLATE
    )
    engine, _, _ = engine_settings_for(Settings(), "/m.gguf", own, auto_gpu_layers=auto)
    assert engine.n_gpu_layers == 17 and seen[0].n_ctx == 1024
    assert engine.chat_format == CHATML_TEMPLATE
    # A custom choice without a template falls back to automatic.
    engine, _, _ = engine_settings_for(Settings(), "/m.gguf", ModelSettings(chat_format=CUSTOM))
    assert engine.chat_format == AUTO


def test_reload_changes_name_what_needs_a_reload() -> None:
    before = ModelSettings(n_ctx=2048, temperature=0.5)
    assert ModelSettings(n_ctx=2048, temperature=0.9).reload_changes(before) == ()
    after = ModelSettings(n_ctx=4096, flash_attn=True, temperature=0.5)
    assert after.reload_changes(before) == ("n_ctx", "flash_attn")
    custom = ModelSettings(chat_format=CUSTOM, custom_template="a")
    assert ModelSettings(chat_format=CUSTOM, custom_template="b").reload_changes(custom) == (
        "chat_format",
    )


def test_the_form_stores_only_what_differs_from_the_global_settings() -> None:
    settings = Settings(n_ctx=4096, n_gpu_layers=0)
    values = settings_values(settings, ModelSettings(), max_context=8192, total_layers=3)
    assert settings_from_values(settings, values) == ModelSettings()
    changed = settings_from_values(
        settings, values.__class__(**{**values.__dict__, "n_ctx": 2048, "n_gpu_layers": 3})
    )
    assert changed == ModelSettings(n_ctx=2048, n_gpu_layers=-1)  # 3 of 3 layers = all


def test_chat_format_override() -> None:
    assert format_for_override("auto", "gemma3", None).name == "gemma"
    assert format_for_override("auto", "llama", CHATML_TEMPLATE).name == "model-template"
    assert format_for_override("phi3", "llama", CHATML_TEMPLATE).name == "phi3"
    custom = format_for_override(CHATML_TEMPLATE, "llama", None)
    assert custom.name == "custom-template" and custom.stop[0] == "<|im_end|>"
    with pytest.raises(PromptFormatError, match="leaves out the messages"):
        format_for_override("{% for m in messages %}{{ m.role }}{% endfor %}", "llama", None)
    with pytest.raises(PromptFormatError):
        format_for_override("{{ ().__class__.__mro__ }}{% for", "llama", None)


def test_memory_is_read_from_llama_cpp_buffer_reports() -> None:
    log = (
        "load_tensors:   CPU_Mapped model buffer size =   241.00 MiB\n"
        "load_tensors:        CUDA0 model buffer size =   100.00 MiB\n"
        "llama_kv_cache:        CPU KV buffer size =     6.00 MiB\n"
        "llama_kv_cache:      CUDA0 KV buffer size =     2.00 MiB\n"
        "llama_context:  CUDA_Host  output buffer size =     1.00 MiB\n"
        "sched_reserve:        CUDA0 compute buffer size =     5.50 MiB\n"
    )
    memory = memory_from_logs(log, rss_bytes=123)
    assert memory.weights_ram == 241 * MIB and memory.weights_vram == 100 * MIB
    assert memory.kv_ram == 6 * MIB and memory.kv_vram == 2 * MIB
    assert memory.compute_ram == 1 * MIB and memory.compute_vram == int(5.5 * MIB)
    assert memory.ram_bytes == 248 * MIB and memory.rss_bytes == 123


def test_offloaded_layers_are_what_llama_cpp_reports() -> None:
    log = (
        "load_tensors: offloading 18 repeating layers to GPU\n"
        "load_tensors: offloaded 12/19 layers to GPU\n"
    )
    assert offloaded_from_logs(log) == 12
    assert offloaded_from_logs("load_tensors:   CPU_Mapped model buffer size = 1.00 MiB\n") is None


def test_cache_types_are_stored_checked_and_passed_to_the_engine(tmp_path: Path) -> None:
    store = ModelSettingsStore(tmp_path)
    store.put("/m.gguf", ModelSettings(type_k="q8_0", type_v="q4_0", flash_attn=True))
    own = store.get("/m.gguf")
    engine, _sampling, _prompt = engine_settings_for(Settings(), "/m.gguf", own)
    assert (engine.type_k, engine.type_v, engine.flash_attn) == ("q8_0", "q4_0", "on")
    plain, _, _ = engine_settings_for(Settings(), "/m.gguf", ModelSettings())
    assert (plain.type_k, plain.type_v) == ("f16", "f16")
    key = str(Path("/m.gguf").resolve())
    (tmp_path / "model_settings.json").write_text(
        json.dumps({"models": {key: {"type_k": "q9_9", "type_v": "q8_0"}}})
    )
    assert store.get("/m.gguf") == ModelSettings(type_v="q8_0")  # an unknown type is dropped
    assert ModelSettings(type_k="q8_0").reload_changes(ModelSettings()) == ("type_k",)


def test_the_draft_model_is_stored_and_passed_to_the_engine(tmp_path: Path) -> None:
    store = ModelSettingsStore(tmp_path)
    store.put("/m.gguf", ModelSettings(draft_model="/small.gguf"))
    own = store.get("/m.gguf")
    assert own.draft_model == "/small.gguf"
    engine, _, _ = engine_settings_for(Settings(), "/m.gguf", own)
    assert engine.draft_model_path == "/small.gguf"
    assert engine_settings_for(Settings(), "/m.gguf", None)[0].draft_model_path == ""
    assert own.reload_changes(ModelSettings()) == ("draft_model",)
    values = settings_values(Settings(), own, max_context=None, total_layers=3)
    assert values.draft_model == "/small.gguf"
    assert settings_from_values(Settings(), values).draft_model == "/small.gguf"
    none = settings_values(Settings(), ModelSettings(), max_context=None, total_layers=3)
    assert settings_from_values(Settings(), none).draft_model is None
