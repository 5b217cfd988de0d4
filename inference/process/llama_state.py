"""A sequence's KV state copied out of llama.cpp and put back (issue 13: kept on disk
between engine processes, inference/process/kv_state.py). Part of the llama adapter: like
llama_adapter.py, the only code touching llama-cpp-python's private attributes for this."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import llama_cpp.llama_cpp as llama_lib
from llama_cpp import Llama

from inference.process.llama_adapter import clear_kv_cache


def copy_sequence_state(llm: Llama) -> memoryview:
    """The live KV cache's state (sequence 0, the one Llama uses) copied out of llama.cpp
    (issue 13: kept on disk). Its tokens are `cached_tokens(llm)`."""
    ctx = llm._ctx.ctx
    size = int(llama_lib.llama_state_seq_get_size(ctx, 0))
    data = bytearray(size)
    n = int(
        llama_lib.llama_state_seq_get_data(ctx, (ctypes.c_uint8 * size).from_buffer(data), size, 0)
    )
    return memoryview(data)[: min(n, size)]


def restore_sequence_state(llm: Llama, data: bytearray, tokens: Sequence[int]) -> bool:
    """Replace the KV cache with a state `copy_sequence_state` made for `tokens`. The logits
    are not part of it: the next generate evaluates the last token again. False, with the
    cache left empty, when llama.cpp refuses the bytes."""
    clear_kv_cache(llm)
    size = len(data)
    buffer = (ctypes.c_uint8 * size).from_buffer(data)
    if int(llama_lib.llama_state_seq_set_data(llm._ctx.ctx, buffer, size, 0)) != size:
        clear_kv_cache(llm)
        return False
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    llm._requires_eval = True
    return True
