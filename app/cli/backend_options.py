"""The options that point `hearth chat`, `summarize` and `translate` at a remote
OpenAI-compatible server instead of a local model (issue 14), and opening that server:

    hearth chat --backend http://gpu-box:8080 --model qwen2.5-7b "Hello" --json

With --backend, --model names one of the server's models (default: its only one) and no local
model is loaded or even looked for. The API key comes from --api-key-env VARIABLE, else from
the keyring entry `hearth connect URL --save-key` made; a key is never taken on the command
line, where other users of the machine can read it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from inference.backends.timeouts import DEFAULT_READ_TIMEOUT_S

if TYPE_CHECKING:
    from inference.backends.remote import RemoteEngine


class BackendError(Exception):
    """The remote options cannot be used as given; `str()` is the sentence for the user."""


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "remote server",
        "run on an OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio) instead "
        "of a local model; --model then names one of the server's models",
    )
    group.add_argument(
        "--backend",
        metavar="URL",
        default=None,
        help="the server's address, e.g. http://127.0.0.1:8080 (the API under /v1)",
    )
    group.add_argument(
        "--api-key-env",
        metavar="VARIABLE",
        default=None,
        help="read the server's API key from this environment variable (default: the key "
        "stored with `hearth connect URL --save-key`, if any)",
    )
    group.add_argument(
        "--read-timeout",
        type=float,
        metavar="SECONDS",
        default=DEFAULT_READ_TIMEOUT_S,
        help="how long the server may send nothing before the reply counts as stalled "
        f"(default {DEFAULT_READ_TIMEOUT_S:g})",
    )


def api_key(args: argparse.Namespace) -> str | None:
    """--api-key-env's variable, else the keyring's key for --backend, else None."""
    if args.api_key_env:
        value = os.environ.get(args.api_key_env, "").strip()
        if not value:
            raise BackendError(f"the environment variable {args.api_key_env} is not set or empty")
        return value
    from app.models.connection_keys import load_api_key

    return load_api_key(args.backend)


def open_remote(args: argparse.Namespace, *, model: Any = None) -> RemoteEngine:
    """The server --backend names, asked for its models (the model must be there) and
    context size. A plain-http warning goes to stderr. Raises BackendError or EngineError."""
    from inference.backends.remote import RemoteEngine  # the HTTP client: only when used

    try:
        engine = RemoteEngine(
            args.backend,
            str(model) if model is not None else None,
            api_key(args),
            read_timeout_s=args.read_timeout,
            n_ctx=getattr(args, "n_ctx", None),
        )
    except ValueError as exc:
        raise BackendError(str(exc)) from None
    if engine.warning:
        print(f"hearth: warning: {engine.warning}", file=sys.stderr)
    try:
        engine.connect()
    except BaseException:
        engine.close()
        raise
    return engine


def check_backend_options(args: argparse.Namespace) -> str | None:
    """A sentence when remote-only options come without --backend, else None."""
    if args.backend is None and args.api_key_env:
        return "--api-key-env needs --backend URL"
    return None
