"""Fixtures for the model manager (the conftest of tests/app/models and the CLI and Models-page
tests import them): a fake hub on 127.0.0.1, a Hugging Face cache and HOME
inside tmp_path, and an in-memory keyring (the real one is never touched)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import keyring
import keyring.backend
import pytest
import tqdm
from keyring.errors import PasswordDeleteError

from app.config.paths import HearthPaths, resolve_paths
from tests.support.fake_hub import FakeHub
from tests.support.tiny_gguf import build_tiny_model


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, the HF cache and the keyring all live in tmp_path for every model test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield home
    keyring.set_keyring(previous)


@pytest.fixture
def paths() -> HearthPaths:
    return resolve_paths().ensure()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    """A running fake hub; HF_ENDPOINT points at it and offline mode is off for the test."""
    hf_cache = tmp_path / "hf-home" / "hub"
    with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        # huggingface-hub reads HF_HUB_OFFLINE once, at import time.
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        # ... and its cache folder too: keep huggingface-hub's own downloads in tmp_path.
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hf_cache))
        # hf_hub_download's progress bar would start tqdm's monitor thread, which outlives
        # the test (the suite fails tests that leave threads running).
        monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)
        yield fake


@pytest.fixture(scope="session")
def tiny_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A tiny valid GGUF (a few hundred KB) to serve from the fake hub."""
    path = build_tiny_model(tmp_path_factory.mktemp("hubfiles") / "tiny.gguf")
    return path.read_bytes()
