"""Remote servers' API keys: one keyring entry per server address, never unencrypted."""

from __future__ import annotations

import keyring
import pytest

from app.models.connection_keys import (
    KeyStoreError,
    delete_api_key,
    load_api_key,
    save_api_key,
)
from tests.support.model_hub import MemoryKeyring


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's file backend, which writes passwords unencrypted."""


def test_one_key_per_server_whatever_way_its_address_is_written() -> None:
    save_api_key("http://box:8080/v1/", " sk-1 \n")
    assert load_api_key("http://box:8080") == "sk-1"
    assert load_api_key("http://box:8081") is None
    assert keyring.get_password("Hearth", "api-key http://box:8080") == "sk-1"
    assert delete_api_key("http://box:8080/v1") and not delete_api_key("http://box:8080")


def test_an_unencrypted_keyring_is_refused() -> None:
    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    with pytest.raises(KeyStoreError, match=r"unencrypted.*--api-key-env"):
        save_api_key("http://box:8080", "sk-1")
    assert plain.store == {}
