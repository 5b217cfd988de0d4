"""Hearth's OpenAI-compatible API server (issue 14): a Starlette app over an engine front.

Qt-free and llama.cpp-free (import-linter contracts): `build_app(front, config)` takes any
engine front (front.EngineFront): `hearth serve` passes an inference.async_client.AsyncEngine
of its own; the window can pass one over its own engine later. runner.py runs the app with
uvicorn. Nothing here stores a chat: each request is logged as one line (request_log.py).
"""
