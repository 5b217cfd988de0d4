"""API keys of remote inference servers (issue 14), kept in the platform keyring as Hub tokens
are (app/models/tokens.py): never in the database or the settings file. One entry per server,
named by its address (so http://box:8080 and http://box:8080/v1/ share a key). Without a
usable keyring a key can still come from an environment variable (`--api-key-env`)."""

from __future__ import annotations

from inference.backends.remote_url import parse_server_url

KEYRING_SERVICE = "Hearth"


class KeyStoreError(RuntimeError):
    """No safe keyring is available to store the key; the message says what to do instead."""


def keyring_user(url: str) -> str:
    """The keyring entry's user name for the server at `url` (ValueError for a bad URL)."""
    return f"api-key {parse_server_url(url).root}"


def _keyring():  # type: ignore[no-untyped-def]
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None, Exception
    return keyring, KeyringError


def load_api_key(url: str) -> str | None:
    """The stored key of this server, or None (none stored, or no keyring)."""
    keyring, keyring_error = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, keyring_user(url)) or None
    except keyring_error:
        return None


def save_api_key(url: str, key: str) -> None:
    key = key.strip()
    if not key:
        raise KeyStoreError("The API key is empty.")
    keyring, keyring_error = _keyring()
    instead = "Give it with --api-key-env VARIABLE instead."
    if keyring is None:
        raise KeyStoreError(f"No system keyring is available to keep the key. {instead}")
    backend = keyring.get_keyring()
    chain = getattr(backend, "backends", None) or [backend]
    if chain and "plaintext" in type(chain[0]).__name__.lower():
        # keyrings.alt's PlaintextKeyring would write the key unencrypted to a file.
        raise KeyStoreError(
            f"The only keyring available stores passwords unencrypted, so Hearth will not "
            f"keep the key there. {instead}"
        )
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_user(url), key)
    except keyring_error as exc:
        raise KeyStoreError(f"The system keyring refused the key ({exc}). {instead}") from None


def delete_api_key(url: str) -> bool:
    """Forget this server's key; False when none was stored."""
    keyring, keyring_error = _keyring()
    if keyring is None:
        return False
    try:
        keyring.delete_password(KEYRING_SERVICE, keyring_user(url))
    except keyring_error:
        return False
    return True
