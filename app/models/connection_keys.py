"""API keys of remote inference servers (issue 14), kept in the platform keyring as Hub tokens
are (app/models/tokens.py): never in the database or the settings file. One entry per server,
named by its address (so http://box:8080 and http://box:8080/v1/ share a key). Without a
usable keyring a key can still come from an environment variable (`--api-key-env`)."""

from __future__ import annotations

from app.util.keyring_secrets import (
    SecretStoreError,
    delete_secret,
    load_secret,
    save_secret,
)
from inference.backends.remote_url import parse_server_url

# No safe keyring is available to store the key; the message says what to do instead.
KeyStoreError = SecretStoreError


def keyring_user(url: str) -> str:
    """The keyring entry's user name for the server at `url` (ValueError for a bad URL)."""
    return f"api-key {parse_server_url(url).root}"


def load_api_key(url: str) -> str | None:
    """The stored key of this server, or None (none stored, or no keyring)."""
    return load_secret(keyring_user(url))


def save_api_key(url: str, key: str) -> None:
    key = key.strip()
    if not key:
        raise KeyStoreError("The API key is empty.")
    save_secret(keyring_user(url), key, "the key", "Give it with --api-key-env VARIABLE instead.")


def delete_api_key(url: str) -> bool:
    """Forget this server's key; False when none was stored."""
    return delete_secret(keyring_user(url))
