"""The fit estimate against what llama.cpp really allocates for Gemma 3 270M (CPU).

llama.cpp logs each buffer it allocates ("CPU KV buffer size = 6.00 MiB", ...). A child
process loads the model with the engine's own loader and reports the engine's sums of those
lines plus its RSS growth. Tolerances: KV cache exact within 2 %; weights within 10 %
(llama.cpp may add a CPU_REPACK copy of some tensors for faster kernels, 12.7 MiB on an
AVX2 machine); compute buffer within 10 %; total within 10 %. RSS grows by less than the
estimate (weights are mmapped and the worst-case compute buffer is reserved but mostly
untouched), so the estimate is an upper bound: RSS growth must lie between the weights and
110 % of the total.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.models.fit import estimate_memory
from app.models.gguf_layout import read_layout

MIB = 1 << 20
_CHILD = r"""
import json, sys, psutil
from inference.process import llama_adapter
from inference.process.llama_logs import route_native_logs
from inference.protocol import EngineSettings
path, n_ctx = sys.argv[1], int(sys.argv[2])
proc = psutil.Process()
before = proc.memory_info().rss
# The engine's own loader and memory report: llama.cpp's buffer lines, summed by kind.
route_native_logs()
llm, report = llama_adapter.load_llama_measured(EngineSettings(path, n_ctx=n_ctx, n_batch=512))
memory = report.memory
llm("Hello", max_tokens=4)
print(json.dumps({
    "rss": proc.memory_info().rss - before,
    "model": memory.weights_ram, "KV": memory.kv_ram, "compute": memory.compute_ram,
}))
"""


def _measure(model: Path, n_ctx: int) -> tuple[dict[str, float], int]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(model), str(n_ctx)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return {kind: float(data[kind]) for kind in ("model", "KV", "compute")}, int(data["rss"])


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
    # The engine counts llama.cpp's output buffer with the compute buffers.
    assert estimate.compute_cpu == pytest.approx(measured["compute"], rel=0.10)
    total = sum(measured.values())
    assert estimate.ram_bytes == pytest.approx(total, rel=0.10)
    assert estimate.weights_cpu * 0.9 <= rss <= estimate.ram_bytes * 1.10
