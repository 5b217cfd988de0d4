"""llama.cpp's own log lines: kept off stderr, recorded while a model loads, and read for
what they alone report (each device's buffer sizes, the layers offloaded to the GPU, the reason
a load failed). Engine process only.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import llama_cpp.llama_cpp as llama_lib

from inference.protocol import MemoryUse

_log_callback: Any = None
# While a model loads, llama.cpp's log lines are collected here: its buffer reports are the
# only record of what each device really allocated.
_log_lines: list[str] | None = None
_BUFFER_RE = re.compile(r"(\S+)\s+(model|KV|compute|output) buffer size =\s+([\d.]+) MiB")
_MIB = 1 << 20


def route_native_logs() -> None:
    """llama.cpp logs to stderr even with verbose=False (e.g. SWA cache notes), which would
    interleave with the CLI's output. Drop them unless HEARTH_DEBUG is set; while a load is
    being recorded (`recording_logs`), keep them in memory instead."""
    global _log_callback
    debug = bool(os.environ.get("HEARTH_DEBUG"))

    def _route(_level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        if _log_lines is not None:
            _log_lines.append(text.decode("utf-8", "replace"))
        if debug:
            os.write(2, text)

    _log_callback = llama_lib.llama_log_callback(_route)
    llama_lib.llama_log_set(_log_callback, ctypes.c_void_p(0))


@contextmanager
def recording_logs() -> Iterator[list[str]]:
    """llama.cpp's log lines while the block runs. Nested (a measured load around a load that
    reads its flash attention line), the inner block shares the outer one's list. Routes
    llama.cpp's log here first if nothing did yet: without it there is nothing to record."""
    global _log_lines
    if _log_lines is not None:
        yield _log_lines
        return
    if _log_callback is None:  # a load outside the engine process (tests, bench/ scripts)
        route_native_logs()
    lines: list[str] = []
    _log_lines = lines
    try:
        yield lines
    finally:
        _log_lines = None


def _is_host_buffer(device: str) -> bool:
    """CPU, CPU_Mapped, CPU_REPACK, CUDA_Host, ... live in RAM; CUDA0, Metal, Vulkan0 do not."""
    upper = device.upper()
    return upper.startswith("CPU") or upper.endswith("_HOST")


def memory_from_logs(text: str, rss_bytes: int = 0) -> MemoryUse:
    """Sum llama.cpp's "<device> <kind> buffer size = N MiB" reports by kind and place."""
    sizes = {key: 0 for key in ("model", "KV", "compute")}
    vram = dict(sizes)
    for device, kind, mib in _BUFFER_RE.findall(text):
        kind = "compute" if kind == "output" else kind
        target = sizes if _is_host_buffer(device) else vram
        target[kind] += round(float(mib) * _MIB)
    return MemoryUse(
        weights_ram=sizes["model"],
        weights_vram=vram["model"],
        kv_ram=sizes["KV"],
        kv_vram=vram["KV"],
        compute_ram=sizes["compute"],
        compute_vram=vram["compute"],
        rss_bytes=rss_bytes,
    )


_LOAD_ERROR_RE = re.compile(r"error loading model: (.+)")


def load_error_from_logs(text: str) -> str:
    """llama.cpp's own reason for a failed load ("unknown model architecture: 'x'"), or ""."""
    found = _LOAD_ERROR_RE.findall(text)
    return found[-1].strip() if found else ""


_CONTEXT_ERROR_RE = re.compile(r"llama_init_from_model: (.+)")
_NO_MEMORY_RE = re.compile(r"insufficient memory \(attempted to allocate ([\d.]+) MB\)")


def context_error_from_logs(text: str) -> str:
    """llama.cpp's reason for refusing to create a context for a loaded model ("quantized V
    cache requires flash_attn to be enabled", a context too large for memory), or ""."""
    memory = _NO_MEMORY_RE.findall(text)
    if memory:
        return (
            f"not enough memory for this context size (llama.cpp asked for "
            f"{float(memory[-1]) / 1024:.1f} GiB more)"
        )
    # "enabling flash_attn since it is required for quantized V cache" (flash attention auto)
    # is a note, not a reason: when it is all llama.cpp said, flash attention itself failed.
    found = [line for line in _CONTEXT_ERROR_RE.findall(text) if not line.startswith("enabling")]
    if found:
        return found[-1].strip()
    if "required for quantized V cache" in text:
        return (
            "flash attention, which a quantized V cache needs, could not be used for this model "
            "here: keep V at f16"
        )
    return ""


_OFFLOADED_RE = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")


def offloaded_from_logs(text: str) -> int | None:
    """The layers llama.cpp says it put on the GPU ("offloaded 19/19 layers to GPU"); None
    when it said nothing (a build without a GPU device logs no such line)."""
    found = _OFFLOADED_RE.findall(text)
    return int(found[-1][0]) if found else None
