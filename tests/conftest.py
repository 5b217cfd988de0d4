"""Suite-wide hygiene: offscreen Qt, a fresh data dir per test, no network beyond loopback,
and no thread or engine process left running after a test."""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from tests.support.model_templates import CHATML_TEMPLATE

# Must happen before PySide6 is imported anywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# One CPU thread for decode and prefill (inference/process/cpu_threads.py): the tiny models gain
# nothing from more, and on a busy machine every multi-threaded step waits for its threads
# to be scheduled (3000 tiny tokens: 6 s with one thread, 109 s with two).
os.environ.setdefault("HEARTH_THREADS", "1")
# Automatic drafting off unless a test asks for it (the `auto_drafting` fixture): whether auto
# drafts depends on measured speeds, and drafting's batched rows may differ from one-row
# decoding in the last bits, which tips the tiny random models' many near-ties; outputs
# compared across runs would then depend on timing.
os.environ.setdefault("HEARTH_DRAFTING", "off")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: object) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    if not isinstance(address, tuple) or not address:
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise OSError(f"tests may not reach the network (tried {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise OSError(f"tests may not reach the network (tried {address!r})")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HEARTH_HOME (data, database, settings, models)."""
    home = tmp_path / "hearth-home"
    home.mkdir()
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def opened_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Links the app hands to the desktop to open: recorded here, never given to a browser."""
    from PySide6.QtGui import QDesktopServices  # imported once QT_QPA_PLATFORM is set

    opened: list[str] = []

    def open_url(url: object) -> bool:
        opened.append(url.toString())  # type: ignore[attr-defined]
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    return opened


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_processes() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked_threads = [
            t for t in threading.enumerate() if t.ident not in before and t.is_alive()
        ]
        children = multiprocessing.active_children()
        if not leaked_threads and not children:
            return
        if time.monotonic() > deadline:
            for child in children:
                child.kill()
            pytest.fail(
                f"test left running: threads={[t.name for t in leaked_threads]} "
                f"processes={[c.name for c in children]}"
            )
        time.sleep(0.05)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight llama GGUF with a ChatML template in its metadata; loads in ms."""
    from tests.support.tiny_gguf import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("models") / "tiny-chatml.gguf", chat_template=CHATML_TEMPLATE
    )


@pytest.fixture(scope="session")
def gemma_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real embedded default model (Gemma 3 270M Q4_K_M), assembled once per run."""
    from app.models.default_model import ensure_default_model

    return ensure_default_model(tmp_path_factory.mktemp("gemma"))


@pytest.fixture
def engine() -> Iterator[EngineProcess]:
    """A real engine process with nothing loaded, stopped after the test (files that need
    another kind of engine define their own `engine`)."""
    process = EngineProcess()
    process.start()
    yield process
    process.stop()


@pytest.fixture
def auto_drafting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Automatic drafting as users get it (the suite turns it off by default), for this test
    and the engine processes it starts."""
    monkeypatch.setenv("HEARTH_DRAFTING", "auto")
