"""The window's API server (its requests go through the window's engine, via the GUI thread)
against the headless one (`hearth serve`, its own AsyncEngine): what the hop through the
window costs an API client, measured side by side in one run (issue 14).

Run:  .venv/bin/python bench/window_api_server.py [--model PATH] [--threads 1] [-n 128]
                                                 [--rounds 6] [--n-ctx 2048]

This process builds the real window (offscreen, chat page only, its engine a child process),
switches its API server on at a free loopback port and runs Qt's event loop; `hearth serve`
runs beside it on the same model, threads and context. A client thread sends every round one
streamed greedy text completion to each server, the order alternating round by round; the
requests, their prompts and both figures are bench/api_server.py's (`stream`), on this
process's clock:
- time to first token: from just before the request is written to the arrival of the first
  SSE chunk with text.
- decode speed: (text chunks - 1) / (arrival of the last text chunk - arrival of the first).
Printed: per round both figures for both servers; then mean ± sample standard deviation and
  1. decode speed ratio, window / headless (the hop's cost per token; 1.0 is free)
  2. time to first token difference, window - headless (ms)
as the ratio (difference) of the means and the median of the per-round ratios (differences).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_server import Stream, describe, free_port, stream, wait_healthy  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("-n", type=int, default=128, help="tokens per reply")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n-ctx", type=int, default=2048)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="hearth-window-api-bench-")
    os.environ.update(
        QT_QPA_PLATFORM="offscreen",
        HEARTH_HOME=home,
        HEARTH_THREADS=f"{args.threads},{args.threads}",
    )
    from PySide6.QtCore import QMetaObject, Qt
    from PySide6.QtWidgets import QApplication

    from app.config.paths import resolve_paths
    from app.config.settings import Settings, save_settings
    from app.gui.main import build_app
    from app.gui.server.presenter import ApiServerPresenter

    model = args.model
    if model is None:
        from app.models.default_model import ensure_default_model

        model = ensure_default_model(Path(tempfile.gettempdir()) / "hearth-api-bench")
    app = QApplication([])
    paths = resolve_paths()
    save_settings(
        paths.settings_file,
        Settings(
            model_path=str(model),
            n_ctx=args.n_ctx,
            api_server_enabled=True,
            api_server_port=0,
        ),
    )
    window, controller, database = build_app(paths, pages=False)
    window.show()
    controller.start()
    presenter = window.findChild(ApiServerPresenter)
    assert presenter is not None and presenter.base_url is not None
    window_base = presenter.base_url.removesuffix("/v1")

    headless_port = free_port()
    log = open(Path(home) / "serve.log", "wb")  # noqa: SIM115
    serve = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--model", str(model), "--port",
         str(headless_port), "--n-ctx", str(args.n_ctx)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip
    bases = {"window": window_base, "headless": f"http://127.0.0.1:{headless_port}"}
    results: dict[str, list[Stream]] = {name: [] for name in bases}
    failure: list[BaseException] = []

    def rounds() -> None:  # the client thread: the GUI thread must keep turning
        clients = {name: httpx2.Client(timeout=300) for name in bases}
        try:
            wait_healthy(clients["window"], window_base + "/health", serve)
            wait_healthy(clients["headless"], bases["headless"] + "/health", serve)
            for name in bases:
                stream(clients[name], bases[name], -1, 8)  # warm: first decode, connection
            print(f"model {model.name} · threads {args.threads} · n_ctx {args.n_ctx} · "
                  f"{args.n} tokens · {args.rounds} rounds")  # fmt: skip
            for i in range(args.rounds):
                order = ["window", "headless"] if i % 2 == 0 else ["headless", "window"]
                for name in order:
                    results[name].append(stream(clients[name], bases[name], i, args.n))
                w, h = results["window"][-1], results["headless"][-1]
                print(
                    f"round {i}: window ttft {w.ttft_ms:7.1f} ms {w.decode_tps:7.2f} tok/s "
                    f"({w.chunks} chunks) · headless ttft {h.ttft_ms:7.1f} ms "
                    f"{h.decode_tps:7.2f} tok/s ({h.chunks} chunks) · same text: "
                    f"{w.text == h.text}",
                    flush=True,
                )
        except BaseException as exc:  # reported after the event loop ends
            failure.append(exc)
        finally:
            for client in clients.values():
                client.close()
            QMetaObject.invokeMethod(app, "quit", Qt.ConnectionType.QueuedConnection)

    client_thread = threading.Thread(target=rounds, name="bench-client")
    client_thread.start()
    try:
        app.exec()
        client_thread.join()
    finally:
        controller.shutdown()
        database.close()
        serve.terminate()
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()
    if failure:
        raise failure[0]

    w, h = results["window"], results["headless"]
    w_tps, h_tps = [r.decode_tps for r in w], [r.decode_tps for r in h]
    w_ttft, h_ttft = [r.ttft_ms for r in w], [r.ttft_ms for r in h]
    print(f"decode tok/s     window {describe(w_tps)}   headless {describe(h_tps)}")
    print(f"first token ms   window {describe(w_ttft)}   headless {describe(h_ttft)}")
    ratio = statistics.mean(w_tps) / statistics.mean(h_tps)
    ratios = statistics.median(a / b for a, b in zip(w_tps, h_tps, strict=True))
    diff = statistics.mean(w_ttft) - statistics.mean(h_ttft)
    diffs = statistics.median(a - b for a, b in zip(w_ttft, h_ttft, strict=True))
    print(f"1. decode speed ratio window/headless: {ratio:.3f} (median of rounds {ratios:.3f})")
    print(f"2. time to first token, window - headless: {diff:+.1f} ms "
          f"(median of rounds {diffs:+.1f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
