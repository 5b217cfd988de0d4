"""`hearth connect URL`: check a remote OpenAI-compatible server and list its models; keep or
forget its API key in the system keyring (issue 14). The key is read from --api-key-env's
variable or typed at a hidden prompt (or piped on stdin), never taken as an argument, where
other users of the machine could read it in the process list.

    hearth connect http://gpu-box:8080 --save-key      # asks for the key, stores it
    hearth chat --backend http://gpu-box:8080 --model qwen2.5-7b "Hello"

app/cli/main.py registers it with `add_parser(commands)` and dispatches to `run(args)`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from app.cli.output import fail


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "connect",
        help="check a remote OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio), "
        "list its models, keep its API key in the keyring",
    )
    parser.add_argument("url", help="the server's address, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--api-key-env", metavar="VARIABLE", help="the API key is in this environment variable"
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--save-key",
        action="store_true",
        help="store the API key in the system keyring for this server (from --api-key-env, "
        "else asked for); `hearth chat --backend URL` then uses it",
    )
    keys.add_argument("--forget-key", action="store_true", help="remove the stored API key")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _typed_key(host: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"API key for {host}: ")
    return sys.stdin.readline()


def run(args: argparse.Namespace) -> int:
    from app.models.connection_keys import (
        KeyStoreError,
        delete_api_key,
        load_api_key,
        save_api_key,
    )
    from inference.backends.remote import RemoteEngine
    from inference.sync_client import EngineError

    try:
        engine = RemoteEngine(args.url)
    except ValueError as exc:
        return fail(str(exc), 2)
    host = engine.address.host
    engine.close()
    if args.forget_key:
        forgotten = delete_api_key(args.url)
        print(f"hearth: {'forgot the' if forgotten else 'no'} API key for {host}", file=sys.stderr)
        return 0
    key: str | None = None
    source = "none"
    if args.api_key_env:
        key = os.environ.get(args.api_key_env, "").strip() or None
        if key is None:
            return fail(f"the environment variable {args.api_key_env} is not set or empty")
        source = "environment"
    elif args.save_key:
        key = _typed_key(host).strip() or None
        if key is None:
            return fail("no API key was given")
    if args.save_key and key is not None:
        try:
            save_api_key(args.url, key)
        except KeyStoreError as exc:
            return fail(str(exc))
        source = "keyring"
    elif key is None:
        key = load_api_key(args.url)
        source = "keyring" if key else "none"

    with RemoteEngine(args.url, None, key) as engine:
        if engine.warning:
            print(f"hearth: warning: {engine.warning}", file=sys.stderr)
        try:
            models = engine.models()
        except EngineError as exc:
            return fail(str(exc))
    if args.json:
        payload = {
            "api_base": engine.address.api_base,
            "models": [{"id": m.id, "owned_by": m.owned_by, "n_ctx": m.n_ctx} for m in models],
            "api_key": source,
            "warning": engine.warning,
        }
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    print(f"{host} serves {len(models)} model{'s' if len(models) != 1 else ''}:")
    for model in models:
        context = f"  (context {model.n_ctx} tokens)" if model.n_ctx else ""
        print(f"  {model.id}{context}")
    if source != "none":
        print(f"API key: from the {source}", file=sys.stderr)
    if models:
        print(
            f'Use it: hearth chat --backend {args.url.strip()} --model {models[0].id} "Hello"',
            file=sys.stderr,
        )
    return 0
