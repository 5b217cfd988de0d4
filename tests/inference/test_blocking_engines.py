"""Every BlockingEngine takes every keyword the protocol names: summaries and translations
call whichever engine they were given (local, the window's bridge, a remote server) the same
way, and a keyword one of them lacks fails only at run time (a summary on a remote server
once failed on `state_key`)."""

from __future__ import annotations

import inspect

import pytest

from app.gui.engine_bridge import EngineBridge
from inference.backends.remote import RemoteEngine
from inference.sync_client import BlockingEngine, SyncEngine

METHODS = ("chat", "complete", "count_tokens", "count_tokens_many", "cancel")


@pytest.mark.parametrize("engine", [SyncEngine, RemoteEngine, EngineBridge])
@pytest.mark.parametrize("method", METHODS)
def test_each_engine_takes_every_parameter_the_protocol_names(engine: type, method: str) -> None:
    wanted = inspect.signature(getattr(BlockingEngine, method)).parameters
    taken = inspect.signature(getattr(engine, method)).parameters
    missing = [name for name in wanted if name not in taken]
    assert missing == [], f"{engine.__name__}.{method} lacks {missing}"
