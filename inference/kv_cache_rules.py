"""KV cache rules both sides check (issue 13): the Models page before a load
(app/models/fit.py, app/models/settings.py) and the engine at load
(inference/process/model_load.py), so a combination llama.cpp refuses gets a plain message
instead of its own wording; and flash attention's three settings. Plain data and functions: no
llama.cpp here."""

from __future__ import annotations

# ggml's block size of each KV cache type: a head's width must be a multiple of it.
KV_CACHE_BLOCK = {
    "f32": 1,
    "f16": 1,
    "bf16": 1,
    "q8_0": 32,
    "q4_0": 32,
    "q4_1": 32,
    "iq4_nl": 32,
    "q5_0": 32,
    "q5_1": 32,
}
QUANTIZED_V_NEEDS_FLASH = (
    "A quantized V cache needs flash attention: set flash attention to automatic or on, or "
    "keep V at f16"
)

# Flash attention as llama.cpp takes it (llama_flash_attn_type; llama-server's -fa): "auto"
# lets llama.cpp turn it on where the device supports it (on every CPU, and always for a
# quantized V cache), and is the default (issue 13, bench/flash_attention.py): on the built-in
# Gemma 3 270M on an x86 CPU it took 0.83x the CPU time per decoded token and 0.77x per prompt
# token at depth 2048 (0.94x and 0.97x at depth 0), and it is what makes drafting exact
# (inference/process/llama_rows.py). "off" stays for the models and CPUs where it loses (a toy
# model with 64-wide heads decoded 1.6-3.2x slower with it; Arm cores: llama.cpp #27086).
FLASH_AUTO, FLASH_ON, FLASH_OFF = "auto", "on", "off"
FLASH_MODES = (FLASH_AUTO, FLASH_ON, FLASH_OFF)


def flash_attn_mode(value: object) -> str:
    """A flash attention setting as one of FLASH_MODES. Settings files and callers written
    before the three-way setting hold a bool (True: on, False: off); None means the default,
    auto. ValueError for anything else."""
    if value is None:
        return FLASH_AUTO
    if isinstance(value, bool):
        return FLASH_ON if value else FLASH_OFF
    if isinstance(value, str) and value.lower() in FLASH_MODES:
        return value.lower()
    raise ValueError(f"flash attention must be one of {', '.join(FLASH_MODES)}, not {value!r}")


def kv_cache_refusal(
    type_k: str,
    type_v: str,
    flash_attn: str | bool,
    *,
    head_dim_k: int | None = None,
    head_dim_v: int | None = None,
) -> str:
    """Why llama.cpp would refuse these KV cache settings, worded for the user; "" when it
    would not (as far as the head widths given, if any, tell). llama.cpp's rules
    (llama_init_from_model): a V cache of a block-quantized type needs flash attention; with
    flash attention each cache's block must divide the head width it stores (without it, this
    llama.cpp loads and runs a q8_0 K cache on 16-wide heads). `flash_attn` is the setting
    (flash_attn_mode): with "auto" llama.cpp turns flash attention on for a quantized V cache,
    and on a CPU for any cache, so only "off" is refused a quantized V and only "off" escapes
    the block rule (where auto resolves to off, on some GPUs, llama.cpp's own refusal of a
    quantized V is turned into a message after the load: model_load)."""
    mode = flash_attn_mode(flash_attn)
    for name in (type_k, type_v):
        if name.lower() not in KV_CACHE_BLOCK:
            known = ", ".join(KV_CACHE_BLOCK)
            return f"Unknown KV cache type '{name}' (choose one of {known})"
    if KV_CACHE_BLOCK[type_v.lower()] > 1 and mode == FLASH_OFF:
        return QUANTIZED_V_NEEDS_FLASH
    for which, name, dim in (("K", type_k, head_dim_k), ("V", type_v, head_dim_v)):
        block = KV_CACHE_BLOCK[name.lower()]
        if mode != FLASH_OFF and dim and dim % block:
            return (
                f"This model's attention heads are {dim} wide, which a {name} {which} cache "
                f"(blocks of {block}) cannot hold: keep {which} at f16"
            )
    return ""
