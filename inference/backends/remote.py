"""RemoteEngine: an OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio,
llama-cpp-python's server) as a BlockingEngine (inference/sync_client.py), so the CLI's and
the window's chats, summaries and translations run on it unchanged (issue 14).

    with RemoteEngine("http://gpu-box:8080", "qwen2.5-7b") as engine:
        done = engine.chat([ChatMessage("user", "Hi")], on_delta=print)
        print(done.stats.decode_tps, done.server.timings)

Replies stream over Server-Sent Events (stream_options.include_usage asked for); their
figures are measured on Hearth's clock as remote_stream.py defines them, the server's own
(`usage`, llama-server's `timings`) kept in Done.server. Failures are RemoteErrors in plain
words (remote_errors.py). Nothing touches the network at import or construction: the first
request does. One generation at a time (a second caller waits); `cancel` from any thread,
with SyncEngine's contract: it stops the running reply (its Done says "cancelled") and
refuses new requests until `reset_cancel()`. Token counts and model listing may run beside
a generation (httpx2's client is thread-safe)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx2

from inference.backends.remote_errors import (
    RemoteError,
    RemoteErrorKind,
    connect_error,
    status_error,
    stream_error,
)
from inference.backends.remote_probe import (
    ESTIMATED_N_CTX,
    ServerModel,
    choose_model,
    n_ctx_from_props,
    parse_models,
    remote_model_info,
    token_count,
)
from inference.backends.remote_stream import ReplyStream, ServerSaid, request_parameters
from inference.backends.remote_tokens import TokenCounter
from inference.backends.remote_url import ServerAddress, parse_server_url, warn_once
from inference.backends.stream_handle import StreamHandle
from inference.backends.timeouts import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S
from inference.protocol import ChatMessage, Done, ModelInfo, Priority, Sampling
from inference.sync_client import OnDelta

# Answers that mean "this server has no such endpoint" when probing for a tokenizer.
_NO_ENDPOINT = (400, 404, 405, 422, 501)


class RemoteEngine:
    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        n_ctx: int | None = None,
    ) -> None:
        """`model`: an id from the server's /v1/models (None: the server's only model);
        `n_ctx`: the server's context size when the user knows it better than the server
        says. Raises ValueError for an address that is not http(s)."""
        self.address: ServerAddress = parse_server_url(base_url)
        self.model = model or None
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._api_key = api_key or None
        self._n_ctx_given = n_ctx
        # Plain http:// beyond this machine: logged once per process, kept for the caller.
        self.warning: str | None = warn_once(self.address)
        self.info: ModelInfo | None = None
        self._client: httpx2.Client | None = None
        self._lock = threading.Lock()  # one generation at a time
        self._state = threading.RLock()  # _cancelled, _handle, _client (cancel may be a signal)
        self._cancelled = False
        self._handle: StreamHandle | None = None
        self._tokens = TokenCounter(self.address.root, self._post_count)
        self._ids = itertools.count(1)

    # ---- lifetime ------------------------------------------------------------------------

    def __enter__(self) -> RemoteEngine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._state:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # ---- what the server has ---------------------------------------------------------------

    def models(self) -> tuple[ServerModel, ...]:
        """The server's /v1/models."""
        response = self._send("GET", f"{self.address.api_base}/models")
        if response.status_code != 200:
            raise self._status_error(response, models=None)
        try:
            return parse_models(response.json())
        except ValueError as exc:
            raise RemoteError(
                RemoteErrorKind.MALFORMED,
                f"{self.address.host} sent a model list Hearth cannot read ({exc}).",
                server=self.address.host,
            ) from None

    def connect(self) -> ModelInfo:
        """Ask the server for its models and context size; sets and returns `info`. Raises
        RemoteError when the server is unreachable or lacks the model (naming what it has)."""
        started = time.perf_counter()
        listed = self.models()
        self.model, entry = choose_model(listed, self.model, self.address.host)
        n_ctx, estimated = self._n_ctx_of(entry)
        self.info = remote_model_info(
            self.address.api_base,
            self.address.host,
            self.model,
            n_ctx,
            estimated=estimated,
            load_ms=(time.perf_counter() - started) * 1000.0,
        )
        return self.info

    @property
    def n_ctx(self) -> int:
        """The server's context size (asked once; `info.n_ctx_estimated` says if a guess)."""
        return (self.info or self.connect()).n_ctx

    def _n_ctx_of(self, entry: ServerModel | None) -> tuple[int, bool]:
        if self._n_ctx_given:
            return self._n_ctx_given, False
        if entry is not None and entry.n_ctx:
            return entry.n_ctx, False
        try:
            response = self._send("GET", f"{self.address.root}/props")
            props = response.json() if response.status_code == 200 else None
        except (RemoteError, ValueError):
            props = None
        n_ctx = n_ctx_from_props(props)
        return (n_ctx, False) if n_ctx else (ESTIMATED_N_CTX, True)

    # ---- token counts --------------------------------------------------------------------

    @property
    def token_counts_estimated(self) -> bool | None:
        """True once it is known that counts are estimates (the server has no tokenizer
        endpoint); None before the first count."""
        return self._tokens.estimated

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` by the server's tokenizer (no BOS, no specials), else estimated."""
        self._refuse_if_cancelled()
        return self._tokens.count(text, self.model or "")

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        return [self.count_tokens(text) for text in texts]

    def _post_count(self, url: str, body: dict[str, Any]) -> int | None:
        """The count a tokenizer endpoint answers; None when there is no such endpoint."""
        response = self._send("POST", url, json=body)
        if response.status_code in _NO_ENDPOINT:
            return None
        if response.status_code != 200:
            raise self._status_error(response, models=None)
        try:
            return token_count(response.json())
        except ValueError:
            return None

    # ---- generation ----------------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        priority: Priority = Priority.BACKGROUND,
        on_delta: OnDelta | None = None,
        state_key: str = "",
        work: str = "",
        drafting: str = "auto",
    ) -> Done:
        """A reply with the server's chat template (`priority` is the local queue's: a
        server has its own; `state_key` names a KV state Hearth's own engine keeps: a server
        keeps its cache its own way; `work` and `drafting` are Hearth's own engine's
        speculative decoding: a server decodes its own way)."""
        body = {"messages": [{"role": m.role, "content": m.content} for m in messages]}
        return self._generate(
            "chat/completions", "chat", body, max_tokens, sampling, stop, on_delta
        )

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        on_delta: OnDelta | None = None,
        state_key: str = "",
        work: str = "",
    ) -> Done:
        """A raw continuation of `prompt` through /v1/completions (no chat template);
        `state_key` and `work` as for `chat`."""
        body: dict[str, Any] = {"prompt": prompt}
        return self._generate(
            "completions", "completion", body, max_tokens, sampling, stop, on_delta
        )

    def cancel(self) -> None:
        """Stop the running reply (its Done keeps the text so far, stop_reason "cancelled")
        and refuse new requests until `reset_cancel()` (any thread, a signal handler too)."""
        with self._state:
            self._cancelled = True
            handle = self._handle
        if handle is not None:
            handle.abort()

    def reset_cancel(self) -> None:
        with self._state:
            self._cancelled = False

    # ---- internals -----------------------------------------------------------------------

    def _http(self) -> httpx2.Client:
        with self._state:
            if self._client is None:
                headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
                self._client = httpx2.Client(
                    timeout=httpx2.Timeout(self.read_timeout_s, connect=self.connect_timeout_s),
                    headers=headers,
                )
            return self._client

    def _send(self, method: str, url: str, json: Any = None) -> httpx2.Response:
        """One short request (not a reply stream), its failures in plain words."""
        try:
            return self._http().request(method, url, json=json)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise connect_error(exc, self.address.host, self.connect_timeout_s) from None
        except httpx2.TransportError as exc:
            raise stream_error(
                exc, host=self.address.host, read_timeout_s=self.read_timeout_s, partial=None
            ) from None

    def _status_error(
        self, response: httpx2.Response, *, models: tuple[str, ...] | None
    ) -> RemoteError:
        return status_error(
            response.status_code,
            response.read(),
            response.headers,
            host=self.address.host,
            model=self.model or "",
            api_key_given=self._api_key is not None,
            models=models,
        )

    def _refuse_if_cancelled(self) -> None:
        with self._state:
            if self._cancelled:
                raise RemoteError(RemoteErrorKind.CANCELLED, "Cancelled.", server=self.address.host)

    def _generate(
        self,
        path: str,
        kind: str,
        body: dict[str, Any],
        max_tokens: int,
        sampling: Sampling | None,
        stop: Sequence[str],
        on_delta: OnDelta | None,
    ) -> Done:
        with self._lock:
            handle = StreamHandle()
            with self._state:  # checked and set together with cancel()'s flag
                self._refuse_if_cancelled()
                self._handle = handle
            try:
                if self.model is None:
                    self.connect()
                body.update(
                    request_parameters(self.model or "", max_tokens, sampling or Sampling(), stop)
                )
                return self._stream(f"{self.address.api_base}/{path}", kind, body, handle, on_delta)
            finally:
                with self._state:
                    self._handle = None

    def _stream(
        self,
        url: str,
        kind: str,
        body: dict[str, Any],
        handle: StreamHandle,
        on_delta: OnDelta | None,
    ) -> Done:
        request_id = next(self._ids)
        reader = ReplyStream(kind, on_delta)
        failure: httpx2.Response | None = None
        try:
            with self._http().stream(
                "POST", url, json=body, extensions={"trace": handle.trace}
            ) as response:
                handle.take_response(response)
                if response.status_code != 200:
                    response.read()
                    failure = response
                else:
                    self._read(response, reader, handle)
        except (httpx2.TransportError, ServerSaid, ValueError) as exc:
            if handle.aborted:
                return self._done(reader, request_id, "cancelled")
            if reader.ended:  # the reply was whole; only what followed [DONE] failed
                return self._done(reader, request_id, None)
            if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
                raise connect_error(exc, self.address.host, self.connect_timeout_s) from None
            partial = self._done(reader, request_id, "interrupted") if reader.deltas else None
            if isinstance(exc, ServerSaid):
                raise RemoteError(
                    RemoteErrorKind.SERVER_ERROR,
                    f"{self.address.host} stopped the reply with an error: {exc}.",
                    server=self.address.host,
                    partial=partial,
                ) from None
            raise stream_error(
                exc, host=self.address.host, read_timeout_s=self.read_timeout_s, partial=partial
            ) from None
        if failure is not None:
            listing = None
            if failure.status_code == 404:
                listing = self._listing()
            raise self._status_error(failure, models=listing)
        if handle.aborted:
            return self._done(reader, request_id, "cancelled")
        if not reader.complete:
            partial = self._done(reader, request_id, "interrupted")
            raise stream_error(
                httpx2.RemoteProtocolError("the stream ended before the reply did"),
                host=self.address.host,
                read_timeout_s=self.read_timeout_s,
                partial=partial,
            )
        return self._done(reader, request_id, None)

    def _read(self, response: httpx2.Response, reader: ReplyStream, handle: StreamHandle) -> None:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            # A server that ignores "stream" answers in one piece with the same fields.
            response.read()
            reader.take(response.json())
            reader.ended = True
            return
        # Read on past [DONE] to the end of the body, so the connection can be reused.
        for event in httpx2.EventSource(response):
            if handle.aborted:
                return
            if event.event == "error":
                raise ServerSaid(event.data)
            reader.feed(event.data)

    def _listing(self) -> tuple[str, ...] | None:
        try:
            return tuple(m.id for m in self.models())
        except RemoteError:
            return None

    def _done(self, reader: ReplyStream, request_id: int, stop_reason: str | None) -> Done:
        return reader.done(
            request_id,
            model=self.model or "",
            n_ctx=self.info.n_ctx if self.info is not None else 0,
            base_url=self.address.api_base,
            stop_reason=stop_reason,
        )
