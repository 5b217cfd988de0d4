"""A remote server's failures in plain words (issue 14): one RemoteError, an EngineError whose
`kind` says what went wrong and whose message is one sentence naming the server, so a caller
written for the local engine (`except EngineError`) handles a remote one unchanged.

A failure in the middle of a reply keeps what came: `partial` is a Done with the text so far
and stop_reason "interrupted". A server that dies mid-reply has kind "crashed", as a local
engine death does (inference/sync_client.py), so callers treat both alike."""

from __future__ import annotations

import errno
import json
import socket
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2

from inference.protocol import Done, ErrorKind
from inference.sync_client import EngineError


class RemoteErrorKind:
    CONNECTION_REFUSED = "connection_refused"
    NAME_NOT_FOUND = "name_not_found"  # DNS
    TLS = "tls"
    CONNECT_TIMEOUT = "connect_timeout"
    UNREACHABLE = "unreachable"
    AUTH = "auth"  # 401/403: the API key
    MODEL_NOT_FOUND = "model_not_found"  # 404 on a model (the message lists what there is)
    NOT_FOUND = "not_found"  # 404 on the API itself: not an OpenAI-compatible address
    BUSY = "busy"  # 429/503, with retry_after_s when the server said
    STALLED = "stalled"  # nothing arrived within the read timeout
    MALFORMED = "malformed"  # a reply that is not the event stream or JSON it should be
    INTERRUPTED = "crashed"  # the stream broke off mid-reply: as a local engine crash
    SERVER_ERROR = "server_error"
    BAD_REQUEST = ErrorKind.BAD_REQUEST
    PROMPT_TOO_LONG = ErrorKind.PROMPT_TOO_LONG
    CANCELLED = ErrorKind.CANCELLED


class RemoteError(EngineError):
    """`server`: host[:port]; `status`: the HTTP status when there was one; `retry_after_s`:
    the server's Retry-After in seconds (429/503); `partial`: the reply so far when the
    failure came mid-stream (stop_reason "interrupted"), else None."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        server: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        partial: Done | None = None,
    ) -> None:
        super().__init__(kind, message)
        self.server = server
        self.status = status
        self.retry_after_s = retry_after_s
        self.partial = partial


def _os_error(exc: BaseException) -> BaseException | None:
    """The socket's or TLS layer's error under an httpx2 exception (it wraps httpcore2's)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        current = current.__cause__ or current.__context__
    return None


def connect_error(exc: httpx2.TransportError, host: str, connect_timeout_s: float) -> RemoteError:
    """A failure before the server answered: refused, DNS, TLS, timeout, unreachable."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    cause = _os_error(exc)
    kind, message = RemoteErrorKind.UNREACHABLE, f"Cannot connect to {host} ({exc})."
    if isinstance(exc, httpx2.ConnectTimeout):
        kind = RemoteErrorKind.CONNECT_TIMEOUT
        message = (
            f"{host} did not accept the connection within {connect_timeout_s:g} s: the server "
            "is down or a firewall is in the way."
        )
    elif isinstance(cause, ssl.SSLCertVerificationError):
        kind = RemoteErrorKind.TLS
        message = (
            f"The secure connection to {host} failed: its certificate is not trusted "
            f"({cause.verify_message or cause.reason})."
        )
    elif isinstance(cause, ssl.SSLError):
        kind = RemoteErrorKind.TLS
        message = (
            f"The secure connection to {host} failed ({cause.reason or cause}): does the "
            "server speak https on this port?"
        )
    elif isinstance(cause, socket.gaierror):
        kind = RemoteErrorKind.NAME_NOT_FOUND
        message = f"The name {name} could not be looked up: check the address and the network."
    elif isinstance(cause, ConnectionRefusedError):
        kind = RemoteErrorKind.CONNECTION_REFUSED
        message = (
            f"{host} refused the connection: no server is listening there (is it running, "
            "on this port?)."
        )
    elif cause is not None and getattr(cause, "errno", None) in (
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
    ):
        message = f"{host} cannot be reached: the network is unreachable from here."
    elif isinstance(cause, OSError) and cause.strerror:
        message = f"Cannot connect to {host}: {cause.strerror}."
    return RemoteError(kind, message, server=host)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def in_words(seconds: float) -> str:
    """30 -> "in 30 seconds", 120 -> "in 2 minutes", 5400 -> "in about 2 hours"."""
    if seconds < 1.5:
        return "in a second"
    if seconds < 90:
        return f"in {seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"in {seconds / 60:.0f} minutes"
    return f"in about {seconds / 3600:.0f} hours"


def server_message(body: bytes) -> str:
    """The server's own error text from an error body: OpenAI's {"error": {"message"}},
    Ollama's {"error": "..."}, FastAPI's {"detail": ...}, else the start of the text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return str(error)[:300]
    return text[:200]


def _too_long(body: bytes, message: str) -> bool:
    # llama-server: type "exceed_context_size_error"; OpenAI, vLLM and llama-cpp-python:
    # code "context_length_exceeded" or "maximum context length" in the message.
    raw = body.decode("utf-8", "replace").lower()
    lowered = message.lower()
    return (
        "context_length_exceeded" in raw
        or "exceed_context_size" in raw
        or ("context" in lowered and any(w in lowered for w in ("exceed", "maximum", "too long")))
    )


def status_error(
    status: int,
    body: bytes,
    headers: httpx2.Headers,
    *,
    host: str,
    model: str,
    api_key_given: bool,
    models: tuple[str, ...] | None = None,
) -> RemoteError:
    """An HTTP error answer in plain words. `models`: what /v1/models lists, for a 404 on a
    model (None: the listing failed as well, so the address is likely not an OpenAI API)."""
    said = server_message(body)
    if status in (401, 403):
        if not api_key_given:
            what = f"{host} needs an API key (HTTP {status}) and none was given."
        elif status == 401:
            what = f"{host} refused the API key (HTTP 401): check the key kept for this server."
        else:
            what = f"{host} does not allow this key to do that (HTTP 403): {said}."
        return RemoteError(RemoteErrorKind.AUTH, what, server=host, status=status)
    if status == 404:
        if models is None:
            return RemoteError(
                RemoteErrorKind.NOT_FOUND,
                f"{host} has no OpenAI-compatible API at this address (HTTP 404): check the "
                "URL (the API usually lives under /v1).",
                server=host,
                status=status,
            )
        listed = ", ".join(models) if models else "none"
        return RemoteError(
            RemoteErrorKind.MODEL_NOT_FOUND,
            f"{host} has no model {model!r}; it has: {listed}.",
            server=host,
            status=status,
        )
    if status in (429, 503):
        wait = retry_after_seconds(headers.get("retry-after"))
        when = "try again in a moment" if wait is None else f"it asks to try again {in_words(wait)}"
        why = "too many requests" if status == 429 else "loading or overloaded"
        return RemoteError(
            RemoteErrorKind.BUSY,
            f"{host} is busy (HTTP {status}, {why}): {when}.",
            server=host,
            status=status,
            retry_after_s=wait,
        )
    if 400 <= status < 500:
        kind = RemoteErrorKind.PROMPT_TOO_LONG if _too_long(body, said) else ErrorKind.BAD_REQUEST
        return RemoteError(
            kind,
            f"{host} rejected the request (HTTP {status}): {said or 'no reason given'}.",
            server=host,
            status=status,
        )
    return RemoteError(
        RemoteErrorKind.SERVER_ERROR,
        f"{host} failed with HTTP {status}: {said or 'no reason given'}.",
        server=host,
        status=status,
    )


def stream_error(
    exc: Exception, *, host: str, read_timeout_s: float, partial: Done | None
) -> RemoteError:
    """A failure after the reply began streaming (or while waiting for it): the text so far,
    if any, rides along in `partial`."""
    kept = "; the text so far is kept" if partial is not None and partial.text else ""
    if isinstance(exc, httpx2.ReadTimeout):
        return RemoteError(
            RemoteErrorKind.STALLED,
            f"{host} sent nothing for {read_timeout_s:g} s, so Hearth stopped waiting (the "
            f"read timeout){kept}.",
            server=host,
            partial=partial,
        )
    if isinstance(exc, httpx2.SSEError | ValueError | KeyError | TypeError):
        return RemoteError(
            RemoteErrorKind.MALFORMED,
            f"{host} sent a reply Hearth cannot read ({exc}){kept}.",
            server=host,
            partial=partial,
        )
    return RemoteError(
        RemoteErrorKind.INTERRUPTED,
        f"The connection to {host} broke off in the middle of the reply (the server stopped "
        f"or the network dropped){kept}.",
        server=host,
        partial=partial,
    )
