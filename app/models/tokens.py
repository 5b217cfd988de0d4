"""Hugging Face access tokens for gated or private repositories, kept in the platform keyring
(Secret Service, macOS Keychain, Windows Credential Locker) and never in the database or the
settings file. Without a usable keyring, tokens come only from HF_TOKEN or huggingface-cli's
own login."""

from __future__ import annotations

import os

from app.util.keyring_secrets import (
    SecretStoreError,
    delete_secret,
    load_secret,
    save_secret,
)

KEYRING_USER = "huggingface-token"
INSTEAD = "Set HF_TOKEN in the environment instead."

# No keyring is available to store the token; the message says what to do instead.
TokenStoreError = SecretStoreError


def load_token() -> str | None:
    """HF_TOKEN from the environment first (explicit wins), then the keyring."""
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"]
    return load_secret(KEYRING_USER)


def save_token(token: str) -> None:
    token = token.strip()
    if not token:
        raise TokenStoreError("The token is empty.")
    save_secret(KEYRING_USER, token, "the token", INSTEAD)


def delete_token() -> None:
    delete_secret(KEYRING_USER)
