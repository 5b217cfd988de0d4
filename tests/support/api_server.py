"""Hearth's API server in-process for tests: a real engine process (tiny model) behind an
AsyncEngine, the Starlette app under uvicorn on a thread of its own, on a free loopback port,
driven with the official `openai` client."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import openai

from app.server.app import ServerConfig
from app.server.request_log import ServedRequest
from app.server.runner import BackgroundServer
from inference.async_client import AsyncEngine
from inference.protocol import EngineSettings, RequestRecord


@dataclass
class ServedLog:
    """Every ServedRequest the server reported, as its one log line would."""

    entries: list[ServedRequest] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, served: ServedRequest) -> None:
        with self._changed:
            self.entries.append(served)
            self._changed.notify_all()

    def wait_for(
        self, wanted: Callable[[ServedRequest], bool], timeout: float = 30
    ) -> ServedRequest:
        with self._changed:
            found: list[ServedRequest] = []

            def ready() -> bool:
                found[:] = [s for s in self.entries if wanted(s)]
                return bool(found)

            assert self._changed.wait_for(ready, timeout), f"not logged; got {self.entries}"
            return found[0]


@dataclass
class ApiServer:
    server: BackgroundServer[AsyncEngine]
    served: ServedLog
    api_key: str | None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def engine(self) -> AsyncEngine:
        assert self.server.front is not None
        return self.server.front

    def client(self, api_key: str | None = None) -> openai.OpenAI:
        """The official client; no retries, so a 429 reaches the test."""
        return openai.OpenAI(
            base_url=f"{self.url}/v1",
            api_key=api_key or self.api_key or "unused",
            max_retries=0,
            timeout=60,
        )

    def request_log(self) -> tuple[RequestRecord, ...]:
        return self.server.call(self.engine.request_log)

    def wait_request_record(
        self, wanted: Callable[[RequestRecord], bool], timeout: float = 30
    ) -> RequestRecord:
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.request_log() if wanted(r)]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no such record in {self.request_log()}"
            time.sleep(0.02)

    @contextmanager
    def engine_frozen(self) -> Iterator[None]:
        """The engine process stopped (SIGSTOP) so requests stay in flight for as long as
        the test needs: a busy engine without a race. POSIX only."""
        pid = self.engine.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)


@contextmanager
def api_server(
    model: Path, config: ServerConfig | None = None, n_ctx: int = 1024
) -> Iterator[ApiServer]:
    served = ServedLog()
    config = replace(config or ServerConfig(), on_request=served.add)
    settings = EngineSettings(model_path=str(model), n_ctx=n_ctx)

    async def close(engine: AsyncEngine) -> None:
        await engine.close()

    server: BackgroundServer[AsyncEngine] = BackgroundServer(
        lambda: AsyncEngine.start(settings), close, config
    )
    server.start()
    try:
        yield ApiServer(server, served, config.api_key)
    finally:
        server.stop()
