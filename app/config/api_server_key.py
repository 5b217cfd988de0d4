"""The API key of Hearth's own API server as the window runs it (issue 14), kept in the platform
keyring as Hub tokens and remote servers' keys are (app/models/tokens.py,
app/models/connection_keys.py): never in the settings file or the database. Without a usable
keyring the key still holds for the running window; it is simply not kept."""

from __future__ import annotations

from app.util.keyring_secrets import (
    SecretStoreError,
    delete_secret,
    load_secret,
    save_secret,
)

KEYRING_USER = "api-server-key"

# Raised when the key cannot be kept; the message says why in plain words.
ServerKeyError = SecretStoreError


def load_server_key() -> str | None:
    """The stored key, or None (none stored, or no keyring)."""
    return load_secret(KEYRING_USER)


def save_server_key(key: str) -> None:
    """Keep `key` (an empty one forgets the stored key). Raises ServerKeyError."""
    key = key.strip()
    if not key:
        delete_server_key()
        return
    save_secret(KEYRING_USER, key, "the API key")


def delete_server_key() -> None:
    delete_secret(KEYRING_USER)
