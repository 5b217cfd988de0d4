"""`hearth serve` end to end, run as a user runs it (`python -m app serve`): a request through
the official client, one log line for it, and Ctrl+C stopping the server and its engine."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import openai
import psutil
import pytest

ADDRESS = re.compile(r"^hearth serve: (http://127\.0\.0\.1:\d+)/v1 · model (\S+) · ")


def test_serve_refuses_another_host_without_a_key() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0"],
        env={k: v for k, v in os.environ.items() if k != "HEARTH_API_KEY"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hearth: error: --host 0.0.0.0"), proc.stderr
    assert "--api-key" in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT as Ctrl+C does")
def test_serve_answers_logs_each_request_and_stops_cleanly_on_ctrl_c(tiny_model: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--model", str(tiny_model), "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen: list[str] = []
        for line in proc.stderr:
            seen.append(line)
            found = ADDRESS.match(line)
            if found:
                break
        assert found, "".join(seen)
        url, model = found.groups()
        assert model == tiny_model.stem
        # The engine process (and multiprocessing's resource tracker).
        engines = psutil.Process(proc.pid).children(recursive=True)
        assert engines

        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=4,
            # Greedy: sampled (T 0.8, no seed) the tiny model may end within 4 tokens.
            temperature=0.0, seed=1,
        )  # fmt: skip
        assert reply.usage is not None and reply.usage.completion_tokens == 4
        logged = proc.stderr.readline()
        assert "POST /v1/chat/completions 200 · prompt " in logged, logged
        assert " tok/s · total " in logged

        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(30) == 0, rest
        assert "Traceback" not in rest and "hearth serve: stopped" in rest, rest
        psutil.wait_procs(engines, timeout=10)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in engines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
