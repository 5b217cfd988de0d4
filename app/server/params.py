"""Reading and checking the body of /v1/chat/completions and /v1/completions.

Every refusal is a 400 that names the parameter and says what would be accepted, before
anything reaches the engine. Unknown fields are ignored, as OpenAI-compatible servers do
(clients send defaults such as presence_penalty=0); features Hearth cannot honour (n > 1,
tools, logprobs, images) are refused rather than silently dropped.

Sampling defaults are llama-server's (temperature 0.8, top_p 0.95, top_k 40, min_p 0.05, no
repeat penalty); llama-server's extra fields top_k, min_p and repeat_penalty are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.server.errors import bad_param
from inference.protocol import ChatMessage, Sampling

# OpenAI accepts at most four stop sequences.
MAX_STOPS = 4
# A completion without max_tokens gets OpenAI's documented default.
COMPLETION_DEFAULT_MAX_TOKENS = 16
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class ReplyParams:
    """What both endpoints take. `max_tokens` is within the context (or the context itself
    when the request left it out: the engine stops where the context ends)."""

    model: str | None
    max_tokens: int
    sampling: Sampling
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool


@dataclass(frozen=True)
class ChatParams:
    reply: ReplyParams
    messages: tuple[ChatMessage, ...]


@dataclass(frozen=True)
class CompletionParams:
    reply: ReplyParams
    prompt: str


def chat_params(body: dict[str, Any], n_ctx: int) -> ChatParams:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise bad_param("messages", "'messages' must be a non-empty list of messages.")
    messages = tuple(_message(item, index) for index, item in enumerate(raw))
    if messages[-1].role != "user":
        raise bad_param("messages", "The last message must be the user's (role 'user').")
    _refuse(body, "tools", "Tools (function calling) are not supported by Hearth's server.")
    _refuse(body, "functions", "Function calling is not supported by Hearth's server.")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    return ChatParams(_reply(body, n_ctx, limit, default=n_ctx), messages)


def completion_params(body: dict[str, Any], n_ctx: int) -> CompletionParams:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise bad_param(
            "prompt",
            "'prompt' must be one string (lists of prompts or of token ids are not "
            "supported: send one request per prompt).",
        )
    if body.get("echo"):
        raise bad_param("echo", "'echo' is not supported.")
    best_of = body.get("best_of")
    if best_of not in (None, 1):
        raise bad_param("best_of", "'best_of' must be 1: Hearth makes one reply per request.")
    reply = _reply(body, n_ctx, body.get("max_tokens"), default=COMPLETION_DEFAULT_MAX_TOKENS)
    return CompletionParams(reply, prompt)


def _message(item: object, index: int) -> ChatMessage:
    param = f"messages[{index}]"
    if not isinstance(item, dict):
        raise bad_param(param, f"{param} must be an object with 'role' and 'content'.")
    role = _ROLES.get(str(item.get("role")))
    if role is None:
        raise bad_param(
            f"{param}.role",
            f"{param}.role must be one of system, developer, user or assistant "
            f"(got {item.get('role')!r}).",
        )
    return ChatMessage(role, _content(item.get("content"), param))


def _content(content: object, param: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise bad_param(
                    f"{param}.content", "Only text content is supported (no images or audio)."
                )
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    raise bad_param(f"{param}.content", f"{param}.content must be a string or a list of parts.")


def _reply(body: dict[str, Any], n_ctx: int, limit: object, *, default: int) -> ReplyParams:
    if body.get("n") not in (None, 1):
        raise bad_param(
            "n", "'n' must be 1: Hearth makes one reply per request (send n requests instead)."
        )
    if body.get("logprobs") not in (None, False, 0):
        raise bad_param("logprobs", "'logprobs' is not supported by Hearth's server.")
    model = body.get("model")
    stream = _bool(body, "stream", False)
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise bad_param("stream_options", "'stream_options' must be an object.")
    sampling = Sampling(
        temperature=_number(body, "temperature", 0.8, 0.0, 2.0),
        top_p=_number(body, "top_p", 0.95, 0.0, 1.0),
        top_k=int(_number(body, "top_k", 40, 0, 1_000_000, integer=True)),
        min_p=_number(body, "min_p", 0.05, 0.0, 1.0),
        repeat_penalty=_number(body, "repeat_penalty", 1.0, 0.0, 10.0),
        seed=_seed(body.get("seed")),
    )
    return ReplyParams(
        model=model if isinstance(model, str) else None,
        max_tokens=_max_tokens(limit, n_ctx, default),
        sampling=sampling,
        stop=_stops(body.get("stop")),
        stream=stream,
        include_usage=stream and bool(options.get("include_usage", False)),
    )


def _max_tokens(value: object, n_ctx: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_param(
            "max_tokens", f"'max_tokens' must be a whole number of at least 1 (got {value!r})."
        )
    if value > n_ctx:
        raise bad_param(
            "max_tokens",
            f"'max_tokens' is {value}, more than the model's context of {n_ctx} tokens, which "
            f"holds the prompt and the reply together. Ask for at most {n_ctx} tokens, or leave "
            f"it out to stop where the context ends.",
            code="context_length_exceeded",
        )
    return value


def _number(
    body: dict[str, Any],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    integer: bool = False,
) -> float:
    value = body.get(name)
    if value is None:
        return default
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        what = "a whole number" if integer else "a number"
        raise bad_param(name, f"'{name}' must be {what} from {low:g} to {high:g} (got {value!r}).")
    return float(value)


def _seed(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_param("seed", f"'seed' must be a whole number (got {value!r}).")
    return value & 0xFFFFFFFF  # llama.cpp's seed is 32 bits wide


def _stops(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise bad_param("stop", "'stop' must be a string or a list of strings.")
    if len(stops) > MAX_STOPS:
        raise bad_param("stop", f"'stop' takes at most {MAX_STOPS} sequences.")
    return tuple(s for s in stops if s)


def _bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_param(name, f"'{name}' must be true or false.")
    return value


def _refuse(body: dict[str, Any], name: str, message: str) -> None:
    if body.get(name):
        raise bad_param(name, message, code="unsupported")
