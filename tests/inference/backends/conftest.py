from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.openai_servers import llama_cpp_server


@pytest.fixture(scope="module")
def llama_cpp_url(tiny_model: Path) -> Iterator[str]:
    """llama-cpp-python's own server on the tiny model: the real remote (a child process)."""
    with llama_cpp_server(tiny_model) as url:
        yield url
