"""Through a remote backend, is the decode speed Hearth shows within 3 % of the speed the
server itself reports for the same reply? (issue 14)

Run:  .venv/bin/python bench/remote_backend.py [--model PATH] [--replies 6] [--tokens 128]
                                               [--threads 2] [--server llama_cpp|hearth]

Starts llama-cpp-python's own server (`python -m llama_cpp.server`, verbose) on the built-in
Gemma 3 270M (app/models/default_model.py) or --model, on 127.0.0.1, and sends it `--replies`
text completions through inference.backends.remote.RemoteEngine, one after another. For each
reply it prints:

  hearth   the decode speed Hearth shows: GenerationStats.decode_tps, defined in
           inference/backends/remote_stream.py: tokens after the first / time from the first
           to the last content delta, on this process's clock (llama-cpp-python's server
           sends no `usage` when streaming, so tokens are counted by deltas).
  server   what the server reports for that reply. llama-cpp-python's server sends no
           `timings` (llama-server does: timings.predicted_per_second), so its report is
           llama.cpp's own performance print on its stderr, `llama_perf_context_print:
           eval time = X ms / N runs`: N single-token decodes (the tokens after the first,
           which comes out of the prompt's evaluation) / their llama_decode time X. That
           counts llama_decode only: sampling, detokenizing and the server's Python loop
           are not in it.
  wall     the server's decode on its own wall clock, to tell what the server's Python
           adds from what the wire and Hearth add: N / (total time - prompt eval time) from
           the same print (its `total time` runs from the request's start to the end of the
           generation, sampling included).
Ratios hearth/server and hearth/wall per reply, then their median, min and max. Replies
vary by seed; a reply that ends early (an end-of-turn token) is still one comparison.

--server hearth: the remote is Hearth's own API server (`hearth serve`, the same model and
threads), which reports each reply's `timings` as llama-server does: `server` is then its
timings.predicted_per_second (its engine's decode speed: tokens after the first / time from
the first token to the last, on the engine's clock, sampling and detokenizing included; the
definition in app/server/timings.py), the fair counterpart of the speed Hearth shows, and
`wall` is not printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2

from inference.backends.remote import RemoteEngine
from inference.protocol import Sampling

_EVAL = re.compile(r"^llama_perf_context_print:\s+eval time =\s*([\d.]+) ms /\s*(\d+) runs", re.M)
_PROMPT = re.compile(r"^llama_perf_context_print: prompt eval time =\s*([\d.]+) ms", re.M)
_TOTAL = re.compile(r"^llama_perf_context_print:\s+total time =\s*([\d.]+) ms", re.M)
# `python -m llama_cpp.server`, with llama.cpp's extra (AMX/repack) weight buffers off: on this
# project's AMX machines they segfault on the first evaluation of a Q4_K model such as the
# built-in Gemma (inference/process/llama_adapter.amx_path_disabled); the Hearth engine loads
# the same way, so both sides run the same kernels. HEARTH_AMX=1 keeps them.
_LAUNCHER = """
import os, runpy, sys
import llama_cpp.llama_cpp as lib
if os.environ.get("HEARTH_AMX") != "1":
    original = lib.llama_model_default_params
    def params():
        p = original()
        p.use_extra_bufts = False
        return p
    lib.llama_model_default_params = params
sys.argv = ["llama_cpp.server", *sys.argv[1:]]
runpy.run_module("llama_cpp.server", run_name="__main__")
"""
# A text to continue (/v1/completions): the built-in Gemma's GGUF has no chat template, and
# llama-cpp-python's server would wrap a chat in its llama-2 fallback, which it ends at once.
PROMPT = (
    "The lighthouse keeper had not slept for two days. The storm came in from the west, and "
    "by nightfall the waves were breaking over the rocks below the tower. He climbed"
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _model(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    from app.config.paths import resolve_paths
    from app.models.default_model import ensure_default_model

    return ensure_default_model(resolve_paths().ensure().models_dir)


def _server_report(log: Path, seen: int, timeout_s: float = 5.0) -> tuple[float, int, float]:
    """(eval ms, eval runs, decode wall ms) of the next performance print after offset
    `seen` in the server's stderr log, waiting for it to be written."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(errors="replace")[seen:]
        ev, pr, tot = _EVAL.search(text), _PROMPT.search(text), _TOTAL.search(text)
        if ev and pr and tot:
            eval_ms, runs = float(ev.group(1)), int(ev.group(2))
            return eval_ms, runs, float(tot.group(1)) - float(pr.group(1))
        if time.monotonic() > deadline:
            raise RuntimeError("the server printed no performance report for a reply")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--replies", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--server", choices=("llama_cpp", "hearth"), default="llama_cpp")
    args = parser.parse_args()
    model = _model(args.model)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    if args.server == "hearth":
        rows = _hearth_serve(model, port, args.threads, args.replies, args.tokens)
        _summary(rows, wall=False)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("w") as err:
            command = [sys.executable, "-c", _LAUNCHER, "--model", str(model)]
            command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
            command += ["--n_threads", str(args.threads), "--n_threads_batch", str(args.threads)]
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx2.get(f"{url}/v1/models", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(log.read_text()[-2000:]) from None
                time.sleep(0.2)
            print(f"model {model.name}, {args.threads} threads, llama_cpp.server at {url}")
            rows = _run(url, log, args.replies, args.tokens)
        finally:
            server.kill()
            server.wait()
    _summary(rows)
    return 0


def _run(url: str, log: Path, replies: int, tokens: int) -> list[tuple[float, float, float]]:
    rows = []
    print(f"{'reply':>5} {'deltas':>6} {'runs':>5} {'hearth':>8} {'server':>8} {'wall':>8}"
          f" {'h/server':>9} {'h/wall':>7}")  # fmt: skip
    with RemoteEngine(url) as engine:
        engine.connect()
        # One untimed reply: the server's first request sets up its chat format.
        engine.complete("Hello", max_tokens=8)
        for i in range(replies):
            seen = len(log.read_text(errors="replace"))
            done = engine.complete(
                PROMPT,
                max_tokens=tokens,
                sampling=Sampling(temperature=0.7, seed=i + 1),
            )
            eval_ms, runs, wall_ms = _server_report(log, seen)
            hearth = done.stats.decode_tps
            server = runs / (eval_ms / 1000.0) if eval_ms > 0 else 0.0
            wall = runs / (wall_ms / 1000.0) if wall_ms > 0 else 0.0
            deltas = done.server.deltas if done.server is not None else 0
            line = f"{i + 1:>5} {deltas:>6} {runs:>5} {hearth:>8.1f} {server:>8.1f} {wall:>8.1f}"
            if runs < 8 or not (hearth and server and wall):
                print(line + "  (ended after a few tokens: left out)")
                continue
            print(line + f" {hearth / server:>9.3f} {hearth / wall:>7.3f}")
            rows.append((hearth, server, wall))
    return rows


def _wait_listening(url: str, server: subprocess.Popen[bytes], describe: Callable[[], str]) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx2.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(describe()) from None
        time.sleep(0.2)


def _hearth_serve(
    model: Path, port: int, threads: int, replies: int, tokens: int
) -> list[tuple[float, float, float]]:
    """`hearth serve` as the remote: its timings.predicted_per_second is the server's figure."""
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HEARTH_THREADS": str(threads)}
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as home:
        env["HEARTH_HOME"] = home
        command = [sys.executable, "-m", "app", "serve", "--model", str(model)]
        command += ["--port", str(port), "--n-ctx", "2048"]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _wait_listening(url, server, lambda: "hearth serve did not start")
            print(f"model {model.name}, {threads} threads, hearth serve at {url}")
            print(f"{'reply':>5} {'tokens':>6} {'hearth':>8} {'server':>8} {'h/server':>9}")
            rows = []
            with RemoteEngine(url) as engine:
                engine.connect()
                engine.complete("Hello", max_tokens=8)  # warm, untimed
                for i in range(replies):
                    done = engine.complete(
                        PROMPT, max_tokens=tokens, sampling=Sampling(temperature=0.7, seed=i + 1)
                    )
                    timings = (done.server.timings if done.server is not None else None) or {}
                    reported = timings.get("predicted_per_second")
                    server_tps = float(reported) if isinstance(reported, int | float) else 0.0
                    hearth = done.stats.decode_tps
                    n = done.stats.completion_tokens
                    line = f"{i + 1:>5} {n:>6} {hearth:>8.1f} {server_tps:>8.1f}"
                    if n < 8 or not (hearth and server_tps):
                        print(line + "  (ended after a few tokens, or no timings: left out)")
                        continue
                    print(line + f" {hearth / server_tps:>9.3f}")
                    rows.append((hearth, server_tps, 0.0))
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return rows


def _summary(rows: list[tuple[float, float, float]], wall: bool = True) -> None:
    names = (("hearth/server", 1), ("hearth/wall", 2)) if wall else (("hearth/server", 1),)
    for name, index in names:
        ratios = [r[0] / r[index] for r in rows if r[index] > 0]
        print(
            f"{name}: median {statistics.median(ratios):.3f}, "
            f"min {min(ratios):.3f}, max {max(ratios):.3f} over {len(ratios)} replies"
        )


if __name__ == "__main__":
    raise SystemExit(main())
