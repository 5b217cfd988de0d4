"""The Starlette app: routes, the API key, the body limit and OpenAI-shaped errors.

    app = build_app(front, ServerConfig(api_key="...", max_waiting=8))

Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health (the
only one that needs no key). Called on the server's event loop only.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.server.admission import Admission
from app.server.errors import AUTHENTICATION, NOT_FOUND, UNAVAILABLE, ApiError
from app.server.front import EngineFront
from app.server.params import chat_params, completion_params
from app.server.payloads import ReplyShape
from app.server.replies import answer
from app.server.request_log import OnRequest, ServedRequest, log_line
from inference.protocol import ModelInfo

# A chat that fills a 128k-token context is about 0.5 MB of text; JSON escaping can double it.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_WAITING = 8


@dataclass(frozen=True)
class ServerConfig:
    api_key: str | None = None
    max_waiting: int = DEFAULT_MAX_WAITING
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    on_request: OnRequest = field(default=log_line)


def model_id(info: ModelInfo) -> str:
    """The name clients pass as `model`: the model file's name without .gguf."""
    return Path(info.path).stem


def build_app(front: EngineFront, config: ServerConfig | None = None) -> Starlette:
    config = config or ServerConfig()
    admission = Admission(config.max_waiting)
    Handler = Callable[[Request], Awaitable[Response]]

    def guarded(handler: Handler, *, needs_key: bool = True) -> Handler:
        """Checks the key, answers ApiError as JSON and logs refusals (replies log
        themselves when they end)."""

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            try:
                if needs_key:
                    _check_key(request, config.api_key)
                return await handler(request)
            except ApiError as exc:
                if not exc.logged:
                    config.on_request(
                        ServedRequest(
                            request.method,
                            request.url.path,
                            exc.status,
                            total_ms=(time.perf_counter() - started) * 1000.0,
                            error=exc.message,
                        )
                    )
                return exc.response()

        return endpoint

    def loaded() -> ModelInfo:
        info = front.info
        if info is None:
            why = front.crashed or "No model is loaded yet."
            raise ApiError(503, why, type=UNAVAILABLE, code="model_not_loaded")
        return info

    async def chat_completions(request: Request) -> Response:
        body = await read_json(request, config.max_body_bytes)
        info = loaded()
        params = chat_params(body, info.n_ctx)
        reply = params.reply
        return await answer(
            request,
            reply,
            ReplyShape.new(True, model_id(info)),
            admission,
            config.on_request,
            lambda: front.chat(
                params.messages,
                max_tokens=reply.max_tokens,
                sampling=reply.sampling,
                stop=reply.stop,
            ),
        )

    async def completions(request: Request) -> Response:
        body = await read_json(request, config.max_body_bytes)
        info = loaded()
        params = completion_params(body, info.n_ctx)
        reply = params.reply
        return await answer(
            request,
            reply,
            ReplyShape.new(False, model_id(info)),
            admission,
            config.on_request,
            lambda: front.complete(
                params.prompt,
                max_tokens=reply.max_tokens,
                sampling=reply.sampling,
                stop=reply.stop,
            ),
        )

    async def models(request: Request) -> Response:
        info = loaded()
        entry = {
            "id": model_id(info),
            "object": "model",
            "created": _created(info),
            "owned_by": "hearth",
            # Beyond OpenAI's fields, what a client needs to size its requests.
            "meta": {"n_ctx": info.n_ctx, "name": info.name, "quantization": info.quantization},
        }
        return JSONResponse({"object": "list", "data": [entry]})

    async def health(request: Request) -> Response:
        if front.info is None:
            why = front.crashed or "loading"
            return JSONResponse({"status": "unavailable", "reason": why}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = NOT_FOUND if exc.status_code == 404 else "invalid_request_error"
        message = f"{request.method} {request.url.path}: {exc.detail}"
        return ApiError(exc.status_code, message, type=kind).response()

    return Starlette(
        routes=[
            Route("/v1/chat/completions", guarded(chat_completions), methods=["POST"]),
            Route("/v1/completions", guarded(completions), methods=["POST"]),
            Route("/v1/models", guarded(models), methods=["GET"]),
            Route("/health", guarded(health, needs_key=False), methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )


def _check_key(request: Request, api_key: str | None) -> None:
    if api_key is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), api_key.encode()
    ):
        raise ApiError(
            401,
            "Missing or wrong API key: send the server's key (the API key in Hearth's API "
            "server dialog, or `hearth serve --api-key`) as 'Authorization: Bearer KEY'.",
            type=AUTHENTICATION,
            code="invalid_api_key",
        )


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, read at most `limit` bytes far (413 beyond)."""
    too_large = ApiError(
        413,
        f"The request body is larger than this server accepts ({limit} bytes).",
        code="request_too_large",
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _created(info: ModelInfo) -> int:
    try:
        return int(Path(info.path).stat().st_mtime)
    except OSError:
        return 0
