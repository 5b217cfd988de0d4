from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.support.model_hub import MemoryKeyring
from tests.support.openai_servers import llama_cpp_server


@pytest.fixture(scope="module")
def llama_cpp_url(tiny_model: Path) -> Iterator[str]:
    """llama-cpp-python's own server on the tiny model: the real remote (a child process)."""
    with llama_cpp_server(tiny_model) as url:
        yield url


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """API keys go to a keyring in this process's memory, never the user's."""
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)
