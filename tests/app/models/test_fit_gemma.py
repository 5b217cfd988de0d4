"""The fit estimate against what llama.cpp really allocates for Gemma 3 270M (CPU).

llama.cpp prints each buffer it allocates ("CPU KV buffer size = 6.00 MiB", ...). A child
process loads the model with the engine's settings and reports those lines plus its RSS
growth. Tolerances: KV cache exact within 2 %; weights within 10 % (llama.cpp may add a
CPU_REPACK copy of some tensors for faster kernels, 12.7 MiB here); compute buffer within
10 %; total within 10 %. RSS grows by less than the estimate (weights are mmapped and the
worst-case compute buffer is reserved but mostly untouched), so the estimate is an upper
bound: RSS growth must lie between the weights and 110 % of the total.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.models.fit import estimate_memory
from app.models.gguf_layout import read_layout

MIB = 1 << 20
_CHILD = r"""
import json, sys, psutil, llama_cpp
path, n_ctx = sys.argv[1], int(sys.argv[2])
proc = psutil.Process()
before = proc.memory_info().rss
# llama.cpp logs its buffer sizes to stderr, which the parent captures.
llm = llama_cpp.Llama(path, n_ctx=n_ctx, n_batch=512, n_ubatch=512, n_gpu_layers=0, verbose=True)
llm("Hello", max_tokens=4)
print(json.dumps({"rss": proc.memory_info().rss - before}))
"""
_BUFFER_RE = re.compile(r"(\S+)\s+(model|KV|compute|output) buffer size =\s+([\d.]+) MiB")


def _measure(model: Path, n_ctx: int) -> tuple[dict[str, float], int]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(model), str(n_ctx)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    sizes: dict[str, float] = {"model": 0.0, "KV": 0.0, "compute": 0.0, "output": 0.0}
    for _device, kind, mib in _BUFFER_RE.findall(result.stderr):
        sizes[kind] += float(mib) * MIB
    return sizes, int(data["rss"])


@pytest.mark.slow
@pytest.mark.parametrize("n_ctx", [2048, 8192])
def test_estimate_matches_llama_cpp_buffers(gemma_model: Path, n_ctx: int) -> None:
    pytest.importorskip("psutil")
    layout = read_layout(gemma_model)
    estimate = estimate_memory(layout, n_ctx, 0)
    measured, rss = _measure(gemma_model, n_ctx)
    assert measured["KV"] > 0 and measured["compute"] > 0, "llama.cpp log format changed"
    assert estimate.kv_bytes == pytest.approx(measured["KV"], rel=0.02)
    assert estimate.weights_cpu == pytest.approx(measured["model"], rel=0.10)
    compute = measured["compute"] + measured["output"]
    assert estimate.compute_cpu == pytest.approx(compute, rel=0.10)
    total = sum(measured.values())
    assert estimate.ram_bytes == pytest.approx(total, rel=0.10)
    assert estimate.weights_cpu * 0.9 <= rss <= estimate.ram_bytes * 1.10
