"""`hearth serve`: the loaded model as an OpenAI-compatible API on this machine (issue 14).

Binds 127.0.0.1 unless told otherwise; any other address needs an API key. One line per
request on stderr, with its timing; nothing is stored as a chat. Ctrl+C stops the server and
the engine process. app/cli/main.py registers it; app/server holds the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.cli.output import fail

DEFAULT_PORT = 8080
KEY_ENV = "HEARTH_API_KEY"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    serve = commands.add_parser(
        "serve", help="serve the model over an OpenAI-compatible HTTP API on this machine"
    )
    serve.add_argument("--model", type=Path, help="GGUF model file (default: the built-in model)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this "
        "machine only; any other needs --api-key)",
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free one)")
    serve.add_argument(
        "--api-key",
        default=None,
        help=f"require 'Authorization: Bearer KEY' on every request (or set {KEY_ENV}, "
        "which other users of this machine cannot read in the process list)",
    )
    serve.add_argument(
        "--max-waiting",
        type=int,
        default=None,
        help="requests that may wait while one generates; more are answered 429 (default 8)",
    )
    serve.add_argument("--n-ctx", type=int, default=None, help="context size in tokens")
    serve.add_argument("--gpu-layers", type=int, default=None, help="layers to offload (-1 = all)")
    return serve


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from app.cli.chat import _resolve_model
    from app.config.paths import resolve_paths
    from app.config.settings import load_settings
    from app.models.default_model import DefaultModelError
    from app.server.app import DEFAULT_MAX_WAITING, ServerConfig
    from app.server.runner import address, bind

    api_key = args.api_key if args.api_key is not None else os.environ.get(KEY_ENV) or None
    if not is_loopback(args.host) and not api_key:
        return fail(
            f"--host {args.host} would let other machines use the model: give an --api-key "
            f"(or set {KEY_ENV}) to serve beyond this machine",
            2,
        )
    max_waiting = DEFAULT_MAX_WAITING if args.max_waiting is None else args.max_waiting
    if max_waiting < 0:
        return fail("--max-waiting must be 0 or more", 2)
    if not 0 <= args.port <= 65535:
        return fail("--port must be from 0 to 65535", 2)
    settings = load_settings(resolve_paths().ensure().settings_file)
    try:
        model_path = _resolve_model(args.model, settings)
    except DefaultModelError as exc:
        return fail(str(exc))
    engine_settings = replace(
        settings.engine_settings(model_path),
        n_ctx=args.n_ctx or settings.n_ctx,
        n_gpu_layers=settings.n_gpu_layers if args.gpu_layers is None else args.gpu_layers,
    )
    try:
        sock = bind(args.host, args.port)  # before the model loads: a busy port fails at once
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    _log_to_stderr()
    config = ServerConfig(api_key=api_key, max_waiting=max_waiting)
    try:
        return asyncio.run(_serve(engine_settings, sock, address(sock), config))
    finally:
        sock.close()


async def _serve(settings: Any, sock: Any, url: str, config: Any) -> int:
    from app.server.app import build_app, model_id
    from app.server.runner import serve
    from inference.async_client import AsyncEngine, AsyncEngineError

    print(f"hearth serve: loading {Path(settings.model_path).name} ...", file=sys.stderr)
    engine = AsyncEngine()
    try:
        with _engine_ignores_ctrl_c():
            engine.open()
        try:
            await engine.load(settings)
        except AsyncEngineError as exc:
            return fail(str(exc))
        info = engine.info
        assert info is not None
        print(
            f"hearth serve: {url}/v1 · model {model_id(info)} · context {info.n_ctx} tokens"
            f"{' · API key required' if config.api_key else ''} · Ctrl+C stops",
            file=sys.stderr,
            flush=True,
        )
        await serve(build_app(engine, config), sock)
    finally:
        await engine.close()
    print("hearth serve: stopped", file=sys.stderr)
    return 0


@contextmanager
def _engine_ignores_ctrl_c() -> Iterator[None]:
    """Ctrl+C in the terminal goes to the whole process group: the engine process, spawned
    while SIGINT is ignored, keeps ignoring it (Python leaves an ignored SIGINT alone), so
    the server alone decides how to stop it (a ShutdownRequest, after the open requests)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _log_to_stderr() -> None:
    from app.server.request_log import LOGGER

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
