"""Flash attention's setting on its way into llama.cpp and its resolved value on the way out
(issue 13). Part of the adapter to llama-cpp-python's internals (llama_adapter.py): Llama()
takes flash attention only as a bool, while llama.cpp's own default, and Hearth's, is "auto"
(llama_flash_attn_type AUTO: on where the device supports it, and always for a quantized V
cache); and llama.cpp reports what auto became only in its log. Engine process only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import llama_cpp.llama_cpp as llama_lib
from llama_cpp import Llama

from inference.kv_cache_rules import FLASH_AUTO, FLASH_OFF, FLASH_ON, flash_attn_mode

_TYPES = {
    FLASH_AUTO: llama_lib.LLAMA_FLASH_ATTN_TYPE_AUTO,
    FLASH_ON: llama_lib.LLAMA_FLASH_ATTN_TYPE_ENABLED,
    FLASH_OFF: llama_lib.LLAMA_FLASH_ATTN_TYPE_DISABLED,
}
# What llama.cpp logs while creating a context: "llama_context: flash_attn = enabled" once
# the value is settled before the context (a setting of on/off, or auto made on for a
# quantized V cache), else, with auto, "resolve_fused_ops: Flash Attention enabled" or
# "... Flash Attention not supported, set to disabled" once it tried the device.
_SETTLED_RE = re.compile(r"flash_attn\s*=\s*(enabled|disabled)")
_RESOLVED_RE = re.compile(r"Flash Attention (enabled|not supported, set to disabled)")


@contextmanager
def requested_flash_type(mode: str) -> Iterator[None]:
    """Create the next llama.cpp context with flash attention `mode` (auto/on/off): Llama()
    sets only ENABLED or DISABLED, so set the type through the context factory it calls
    (llama_init_from_model), and restore the factory afterwards."""
    wanted = _TYPES[flash_attn_mode(mode)]
    original = llama_lib.llama_init_from_model

    def _init(model: Any, params: Any) -> Any:
        params.flash_attn_type = wanted
        return original(model, params)

    llama_lib.llama_init_from_model = _init
    try:
        yield
    finally:
        llama_lib.llama_init_from_model = original


def resolved_from_logs(mode: str, log_text: str) -> str:
    """What flash attention `mode` became ("on" or "off"), as llama.cpp logged it while
    creating the context. An auto it logged nothing about counts as off: the safe side for
    everything that depends on it (drafting is only allowed with on)."""
    mode = flash_attn_mode(mode)
    if mode != FLASH_AUTO:
        return mode
    resolved = _RESOLVED_RE.findall(log_text)
    if resolved:
        return FLASH_ON if resolved[-1] == "enabled" else FLASH_OFF
    settled = _SETTLED_RE.findall(log_text)
    return FLASH_ON if settled and settled[-1] == "enabled" else FLASH_OFF


def pin_resolved(llm: Llama, resolved: str) -> None:
    """Record the resolved value in the Llama's context params (they still say AUTO): they are
    what `flash_attention(llm)` reads and what a copy of the Llama would be made with."""
    llm.context_params.flash_attn_type = _TYPES[resolved]


def flash_attention(llm: Llama) -> str:
    """Whether the loaded context runs flash attention, "on" or "off" (after pin_resolved)."""
    on = llm.context_params.flash_attn_type == llama_lib.LLAMA_FLASH_ATTN_TYPE_ENABLED
    return FLASH_ON if on else FLASH_OFF
