"""KV cache rules both sides check (issue 13): the Models page before a load
(app/models/fit.py, app/models/settings.py) and the engine at load
(inference/process/model_load.py), so a combination llama.cpp refuses gets a plain message
instead of its own wording. Plain data and a function: no llama.cpp here."""

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
    "A quantized V cache needs flash attention: turn flash attention on or keep V at f16"
)


def kv_cache_refusal(
    type_k: str,
    type_v: str,
    flash_attn: bool,
    *,
    head_dim_k: int | None = None,
    head_dim_v: int | None = None,
) -> str:
    """Why llama.cpp would refuse these KV cache settings, worded for the user; "" when it
    would not (as far as the head widths given, if any, tell). llama.cpp's rules
    (llama_init_from_model): a V cache of a block-quantized type needs flash attention; with
    flash attention each cache's block must divide the head width it stores (without it, this
    llama.cpp loads and runs a q8_0 K cache on 16-wide heads)."""
    for name in (type_k, type_v):
        if name.lower() not in KV_CACHE_BLOCK:
            known = ", ".join(KV_CACHE_BLOCK)
            return f"Unknown KV cache type '{name}' (choose one of {known})"
    if KV_CACHE_BLOCK[type_v.lower()] > 1 and not flash_attn:
        return QUANTIZED_V_NEEDS_FLASH
    for which, name, dim in (("K", type_k, head_dim_k), ("V", type_v, head_dim_v)):
        block = KV_CACHE_BLOCK[name.lower()]
        if flash_attn and dim and dim % block:
            return (
                f"This model's attention heads are {dim} wide, which a {name} {which} cache "
                f"(blocks of {block}) cannot hold: keep {which} at f16"
            )
    return ""
