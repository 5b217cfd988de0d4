"""What the About dialog shows and "Copy diagnostics" puts on the clipboard for a bug report:
versions (Hearth, llama-cpp-python and its llama.cpp build, Qt, PySide6, Python), the data
paths, the operating system, CPU and RAM. Never chat content. Qt-free: the caller passes the
Qt versions, and what the engine reported about the loaded model, since this process never
imports llama_cpp (the engine process does).

Reading it never raises: an unknown value reads "unknown".
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from app.config.paths import HearthPaths
from inference.protocol import ModelInfo

UNKNOWN = "unknown"
# llama.cpp builds each compute backend as its own shared library (libggml-cuda.so, ...):
# the ones a llama-cpp-python install ships say what it was built for, without loading it.
_BACKEND_LIBRARIES = (
    ("ggml-cuda", "CUDA"),
    ("ggml-metal", "Metal"),
    ("ggml-vulkan", "Vulkan"),
    ("ggml-hip", "HIP (ROCm)"),
    ("ggml-sycl", "SYCL"),
    ("ggml-opencl", "OpenCL"),
)


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, value), in the order shown


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return UNKNOWN


def llama_build() -> str:
    """The backends the installed llama-cpp-python was built with, from the libraries it
    ships: "CPU", "CPU + CUDA", ... ("unknown" when its file list cannot be read)."""
    try:
        files = metadata.files("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return UNKNOWN
    if not files:
        return UNKNOWN
    names = {Path(str(f)).name.lower() for f in files}
    # Shared libraries only: the package's headers (ggml-cuda.h, ...) name every backend.
    libraries = {n for n in names if n.endswith((".so", ".dylib", ".dll")) or ".so." in n}
    found = [label for stem, label in _BACKEND_LIBRARIES if any(stem in n for n in libraries)]
    return " + ".join(["CPU", *found])


def cpu_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo; elsewhere what `platform` says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split("\n"):
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or UNKNOWN


def _cpu_line() -> str:
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:  # psutil can fail on odd platforms; the count is a nicety
        physical = None
    logical = os.cpu_count()
    cores = f"{physical} cores, {logical} threads" if physical else f"{logical} threads"
    return f"{cpu_name()} ({cores}, {platform.machine()})"


def _ram_line() -> str:
    try:
        import psutil

        memory = psutil.virtual_memory()
    except Exception:
        return UNKNOWN
    gib = 1 << 30
    return f"{memory.total / gib:.1f} GiB ({memory.available / gib:.1f} GiB available)"


def _engine_rows(engine: ModelInfo | None) -> tuple[tuple[str, str], ...]:
    if engine is None:
        return (("Engine", "no model loaded (load one to see what runs it)"),)
    offload = (
        f"{engine.n_gpu_layers} of {engine.n_layers} layers on the GPU"
        if engine.gpu_offload_supported
        else "this build cannot offload to a GPU"
    )
    rows = [
        ("Runs the model on", engine.backend),
        ("GPU offload", offload),
        ("Model", f"{engine.name} ({engine.architecture}, {engine.quantization or '?'})"),
        ("Context", f"{engine.n_ctx} tokens"),
        ("Threads", f"{engine.n_threads} decode, {engine.n_threads_batch} prefill"),
    ]
    if engine.flash_attn:  # as llama.cpp resolved the setting (auto: on or off)
        rows.append(("Flash attention", engine.flash_attn))
    if engine.system_info:
        rows.append(("llama.cpp system info", engine.system_info))
    return tuple(rows)


def collect(
    paths: HearthPaths,
    qt_versions: Mapping[str, str],
    engine: ModelInfo | None,
) -> list[Section]:
    """Everything the About dialog shows. `qt_versions`: e.g. {"Qt": "6.11.3", "PySide6":
    "6.11.3"}; `engine`: the loaded model as the engine reported it (None: none loaded)."""
    llama_version = package_version("llama-cpp-python")
    if engine is not None and engine.llama_cpp_version not in ("", UNKNOWN):
        llama_version = engine.llama_cpp_version  # what the engine really imported
    versions = (
        ("Hearth", package_version("hearth")),
        ("llama-cpp-python", llama_version),
        ("llama.cpp build", llama_build()),
        *qt_versions.items(),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
    )
    data = (
        ("Data folder", str(paths.data_dir)),
        ("Chat history", str(paths.database)),
        ("Models", str(paths.models_dir)),
        ("Settings", str(paths.settings_file)),
        ("Kept KV states", str(paths.kv_states_dir)),
        ("Drafting speeds", str(paths.draft_speeds_file)),
        ("Set by HEARTH_HOME", "yes" if os.environ.get("HEARTH_HOME") else "no"),
    )
    system = (
        ("Operating system", platform.platform()),
        ("CPU", _cpu_line()),
        ("RAM", _ram_line()),
        ("Executable", sys.executable),
    )
    return [
        Section("Versions", versions),
        Section("Engine", _engine_rows(engine)),
        Section("Data", data),
        Section("System", system),
    ]


def as_text(sections: Sequence[Section]) -> str:
    """Plain text for a bug report: one "label: value" line per row under each title."""
    lines: list[str] = []
    for section in sections:
        if lines:
            lines.append("")
        lines.append(f"{section.title}:")
        lines.extend(f"  {label}: {value}" for label, value in section.rows)
    return "\n".join(lines) + "\n"
