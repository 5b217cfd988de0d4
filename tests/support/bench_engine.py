"""A scripted stand-in for the engine a BenchRunner drives (app.models.bench.BenchEngine), for
the runner's paths a real engine cannot be made to take on demand (a chat turn arriving
mid-repetition)."""

from __future__ import annotations

from collections.abc import Callable

from inference.protocol import BenchDone, BenchProgress, EngineSettings, LlamaPerf, ModelInfo
from inference.sync_client import EngineError


def model_info(settings: EngineSettings) -> ModelInfo:
    return ModelInfo(
        path=settings.model_path,
        name="scripted",
        architecture="llama",
        quantization="F32",
        n_ctx=settings.n_ctx,
        n_ctx_train=settings.n_ctx,
        n_gpu_layers=0,
        n_layers=2,
        gpu_offload_supported=False,
        backend="CPU",
        chat_format="chatml",
        chat_format_label="ChatML",
        chat_format_stops=(),
        load_ms=1.0,
        llama_cpp_version="0",
        n_threads=settings.n_threads or 1,
        n_threads_batch=settings.n_threads_batch or 1,
    )


class ScriptedBenchEngine:
    """Each bench call takes the next of `failures` (an ErrorKind to raise, or None) and then
    answers with fixed times: pp_ms 100, tg_ms 1000 (llama.cpp's counters 90 and 950 ms)."""

    def __init__(self, failures: list[str | None]) -> None:
        self.failures = failures
        self.calls: list[tuple[int, int, int, int]] = []  # n_prompt, n_gen, depth, seed
        self.loads: list[EngineSettings] = []

    def load(self, settings: EngineSettings) -> ModelInfo:
        self.loads.append(settings)
        return model_info(settings)

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone:
        self.calls.append((n_prompt, n_gen, depth, seed))
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise EngineError(failure, f"scripted {failure}")
        perf = LlamaPerf(t_p_eval_ms=90.0, n_p_eval=n_prompt, t_eval_ms=950.0, n_eval=n_gen)
        return BenchDone(len(self.calls), n_prompt, n_gen, depth, 100.0, 1000.0, perf)

    def cancel(self) -> None:
        pass


class ThreadScaledBenchEngine:
    """A bench engine whose speed grows with the loaded thread count, steadily (no spread
    between repetitions): the thread search always finds the largest count a clear winner.
    pp_ms 100 and tg_ms 1000 at one thread, divided by the count."""

    def __init__(self) -> None:
        self.threads: list[tuple[int | None, int | None]] = []
        self.closed = False

    def load(self, settings: EngineSettings) -> ModelInfo:
        self.threads.append((settings.n_threads, settings.n_threads_batch))
        return model_info(settings)

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone:
        n = self.threads[-1][0] or 1
        perf = LlamaPerf(t_p_eval_ms=90.0 / n, n_p_eval=n_prompt, t_eval_ms=950.0 / n, n_eval=n_gen)
        return BenchDone(seed, n_prompt, n_gen, depth, 100.0 / n, 1000.0 / n, perf)

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
