"""Access tokens go to the platform keyring only; an unencrypted keyring is refused."""

from __future__ import annotations

import keyring
import pytest

from app.models.tokens import TokenStoreError, delete_token, load_token, save_token
from tests.support.model_hub import MemoryKeyring


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's file backend, which writes passwords unencrypted."""


def test_token_round_trip_through_the_keyring() -> None:
    save_token("  hf_secret \n")
    assert keyring.get_password("Hearth", "huggingface-token") == "hf_secret"
    assert load_token() == "hf_secret"
    delete_token()
    assert load_token() is None


def test_environment_token_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    save_token("hf_stored")
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert load_token() == "hf_from_env"


def test_an_unencrypted_keyring_is_refused_and_nothing_is_stored() -> None:
    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    with pytest.raises(TokenStoreError, match=r"unencrypted.*HF_TOKEN"):
        save_token("hf_secret")
    assert plain.store == {}


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(TokenStoreError, match="empty"):
        save_token("   ")
