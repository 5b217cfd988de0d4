"""Names of what the desktop app adds to an engine trace before storing it with the reply
(issue 12): its own clock marks and the facts about the model that the Performance page
filters and sorts by. The engine's own names come from inference.trace.Trace.phases().

Clock marks are milliseconds on the same origin as the engine's trace (the engine's receipt
of the request). time.perf_counter is the system-wide monotonic clock on Linux
(CLOCK_MONOTONIC), Windows (QueryPerformanceCounter) and macOS (mach_absolute_time), so a
mark the GUI takes and one the engine takes can be subtracted; a mark before the receipt is
negative.
"""

from __future__ import annotations

# The user pressed Enter (or Regenerate): where "time to first token" starts.
ENTER = "gui_enter_ms"
# The first text of the reply was painted in the chat view: where it ends.
FIRST_PAINT = "gui_first_paint_ms"
# The last text of the reply was painted.
LAST_PAINT = "gui_last_paint_ms"

# Facts about the model at the time of the reply (strings or ints).
MODEL_PATH = "model_path"
QUANTIZATION = "quantization"
GPU_LAYERS_REQUESTED = "n_gpu_layers_requested"
GPU_LAYERS_ACTUAL = "n_gpu_layers_actual"
N_LAYERS = "n_layers"
BACKEND = "backend"
# Decode threads llama.cpp used (ModelInfo.n_threads): more than physical cores slows it.
N_THREADS = "n_threads"
# Bytes the machine read back from swap between Enter and the reply's end (the difference of
# app.models.machine.swapped_in_bytes() sampled before and after; app/gui/chat/swap_probe.py).
SWAP_IN = "gui_swap_in_bytes"

# A remote server's own figures for the reply (issue 14: both sides of the wire), from
# inference.protocol.ServerFigures: its address, and llama-server's `timings` where it sent
# them (prompt tokens read and from its cache, their ms; tokens decoded, their ms and rate).
SERVER_URL = "server_url"
SERVER_PROMPT_N = "server_prompt_n"
SERVER_CACHE_N = "server_cache_n"
SERVER_PROMPT_MS = "server_prompt_ms"
SERVER_PREDICTED_N = "server_predicted_n"
SERVER_PREDICTED_MS = "server_predicted_ms"
SERVER_PREDICTED_PER_SECOND = "server_predicted_per_second"
# The timings' keys each name is read from.
SERVER_TIMINGS = {
    SERVER_PROMPT_N: "prompt_n",
    SERVER_CACHE_N: "cache_n",
    SERVER_PROMPT_MS: "prompt_ms",
    SERVER_PREDICTED_N: "predicted_n",
    SERVER_PREDICTED_MS: "predicted_ms",
    SERVER_PREDICTED_PER_SECOND: "predicted_per_second",
}
