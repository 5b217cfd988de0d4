"""Hearth's API server (`hearth serve`) against llama-cpp-python's own (`python -m
llama_cpp.server`): the same model, threads and context, streaming greedy replies, measured
side by side in one run on the client's clock (issue 14).

Run:  .venv/bin/python bench/api_server.py [--model PATH] [--threads 1] [-n 128]
                                          [--rounds 6] [--n-ctx 2048]

Both servers run at once (each idle while the other answers); every round sends one request
to each, the order alternating round by round. Each request is a streamed text completion
(/v1/completions: temperature 0, repeat_penalty 1, max_tokens n) whose prompt starts with the
round's number, so neither server can reuse its last prompt beyond the first tokens. Text
completions, not chat: llama_cpp.server renders the built-in Gemma's chat template its own
way and answers it with an empty reply (an end of turn at once), so the same raw prompt on
both sides is the one comparison that times the same work.
One persistent HTTP connection per server (httpx2), opened and warmed before the rounds.

Definitions (time.perf_counter in this process, the client):
- time to first token: from just before the request is written to the arrival of the first
  SSE chunk with non-empty text.
- decode speed: (text chunks - 1) / (arrival of the last text chunk - arrival of the
  first). Both servers send one chunk per generated token that completes text, so chunks
  count tokens; the script prints both servers' chunk counts to show they match.
Printed: per round, both figures for both servers; then mean ± sample standard deviation,
  1. decode speed ratio, Hearth / llama-cpp-python      (goal >= 0.95)
  2. time to first token difference, Hearth - llama-cpp-python (goal <= +20 ms)
each as the ratio (difference) of the means and the median of the per-round ratios
(differences).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = (
    "Request {i}. Write a long, detailed story about a lighthouse keeper who finds an old map "
    "hidden under the floor of the lamp room, and the journey it leads her on. Describe the "
    "sea, the weather, the people she meets and what she finds at the end."
)


# `python -m llama_cpp.server`, with Hearth's one change to how llama.cpp loads weights on
# this machine: without the AMX/repack buffers where they crash (llama_adapter.
# amx_path_disabled), so both servers run the same matrix kernels.
LLAMA_SERVER = (
    "import sys\n"
    "from inference.process.llama_adapter import _model_params, amx_path_disabled\n"
    # Kept in a name: a context manager nobody holds is collected, and its exit undoes it.
    "loading = _model_params(None, use_extra_bufts=not amx_path_disabled())\n"
    "loading.__enter__()\n"
    "from llama_cpp.server.__main__ import main\n"
    "main()\n"
)


@dataclass(frozen=True)
class Stream:
    ttft_ms: float
    decode_tps: float
    chunks: int
    text: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(client: httpx2.Client, url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited ({proc.returncode})")
        try:
            if client.get(url).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url}: not up after 180 s")


def stream(client: httpx2.Client, base: str, i: int, n: int) -> Stream:
    body = {
        "model": "bench",
        "prompt": PROMPT.format(i=i),
        "max_tokens": n,
        "temperature": 0.0,
        "repeat_penalty": 1.0,
        "stream": True,
    }
    stamps: list[float] = []
    parts: list[str] = []
    t0 = time.perf_counter()
    with client.stream("POST", f"{base}/v1/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            choices = chunk.get("choices") or []
            content = choices[0].get("text") if choices else None
            if content:
                stamps.append(time.perf_counter())
                parts.append(content)
    if len(stamps) < 2:
        raise SystemExit(f"{base}: fewer than two content chunks")
    return Stream(
        ttft_ms=(stamps[0] - t0) * 1000,
        decode_tps=(len(stamps) - 1) / (stamps[-1] - stamps[0]),
        chunks=len(stamps),
        text="".join(parts),
    )


def describe(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):8.2f} ± {sd:6.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    # One thread: on a machine shared with other work, each step of a multi-threaded decode
    # waits for all its threads to be scheduled (inference/process/cpu_threads.py).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("-n", type=int, default=128, help="tokens per reply")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n-ctx", type=int, default=2048)
    args = parser.parse_args()

    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-api-bench")
    home = tempfile.mkdtemp(prefix="hearth-api-bench-home-")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEARTH_HOME": home}
    env["HEARTH_THREADS"] = f"{args.threads},{args.threads}"
    hearth_port, llama_port = free_port(), free_port()
    threads = str(args.threads)
    commands = {
        "hearth": [sys.executable, "-m", "app", "serve", "--model", str(model),
                   "--port", str(hearth_port), "--n-ctx", str(args.n_ctx)],
        "llama": [sys.executable, "-c", LLAMA_SERVER, "--model", str(model),
                  "--port", str(llama_port), "--host", "127.0.0.1", "--n_ctx", str(args.n_ctx),
                  "--n_threads", threads, "--n_threads_batch", threads, "--verbose", "False"],
    }  # fmt: skip
    bases = {"hearth": f"http://127.0.0.1:{hearth_port}", "llama": f"http://127.0.0.1:{llama_port}"}
    health = {"hearth": "/health", "llama": "/v1/models"}
    logs = {name: open(Path(home) / f"{name}.log", "wb") for name in commands}  # noqa: SIM115
    procs = {
        name: subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=logs[name])
        for name, cmd in commands.items()
    }
    clients = {name: httpx2.Client(timeout=300) for name in commands}
    results: dict[str, list[Stream]] = {name: [] for name in commands}
    try:
        for name in commands:
            wait_healthy(clients[name], bases[name] + health[name], procs[name])
            stream(clients[name], bases[name], -1, 8)  # warm: first decode, connection
        print(f"model {model.name} · threads {args.threads} · n_ctx {args.n_ctx} · "
              f"{args.n} tokens · {args.rounds} rounds")  # fmt: skip
        for i in range(args.rounds):
            order = ["hearth", "llama"] if i % 2 == 0 else ["llama", "hearth"]
            for name in order:
                results[name].append(stream(clients[name], bases[name], i, args.n))
            h, q = results["hearth"][-1], results["llama"][-1]
            print(
                f"round {i}: hearth ttft {h.ttft_ms:7.1f} ms {h.decode_tps:6.2f} tok/s "
                f"({h.chunks} chunks) · llama-cpp-python ttft {q.ttft_ms:7.1f} ms "
                f"{q.decode_tps:6.2f} tok/s ({q.chunks} chunks) · same text: {h.text == q.text}"
            )
    finally:
        for client in clients.values():
            client.close()
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()
        print(f"server logs: {home}")

    h, q = results["hearth"], results["llama"]
    h_tps, q_tps = [r.decode_tps for r in h], [r.decode_tps for r in q]
    h_ttft, q_ttft = [r.ttft_ms for r in h], [r.ttft_ms for r in q]
    print(f"decode tok/s     hearth {describe(h_tps)}   llama-cpp-python {describe(q_tps)}")
    print(f"first token ms   hearth {describe(h_ttft)}   llama-cpp-python {describe(q_ttft)}")
    ratio = statistics.mean(h_tps) / statistics.mean(q_tps)
    ratios = statistics.median(a / b for a, b in zip(h_tps, q_tps, strict=True))
    diff = statistics.mean(h_ttft) - statistics.mean(q_ttft)
    diffs = statistics.median(a - b for a, b in zip(h_ttft, q_ttft, strict=True))
    print(f"1. decode speed ratio hearth/llama-cpp-python: {ratio:.3f} "
          f"(median of rounds {ratios:.3f}; goal >= 0.95)")  # fmt: skip
    print(f"2. time to first token, hearth - llama-cpp-python: {diff:+.1f} ms "
          f"(median of rounds {diffs:+.1f} ms; goal <= +20 ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
