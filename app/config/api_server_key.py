"""The API key of Hearth's own API server as the window runs it (issue 14), kept in the platform
keyring as Hub tokens and remote servers' keys are (app/models/tokens.py,
app/models/connection_keys.py): never in the settings file or the database. Without a usable
keyring the key still holds for the running window; it is simply not kept."""

from __future__ import annotations

KEYRING_SERVICE = "Hearth"
KEYRING_USER = "api-server-key"


class ServerKeyError(RuntimeError):
    """The key could not be kept; the message says why in plain words."""


def _keyring():  # type: ignore[no-untyped-def]
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None, Exception
    return keyring, KeyringError


def load_server_key() -> str | None:
    """The stored key, or None (none stored, or no keyring)."""
    keyring, keyring_error = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
    except keyring_error:
        return None


def save_server_key(key: str) -> None:
    """Keep `key` (an empty one forgets the stored key). Raises ServerKeyError."""
    key = key.strip()
    if not key:
        delete_server_key()
        return
    keyring, keyring_error = _keyring()
    if keyring is None:
        raise ServerKeyError("No system keyring is available to keep the API key.")
    backend = keyring.get_keyring()
    chain = getattr(backend, "backends", None) or [backend]
    if chain and "plaintext" in type(chain[0]).__name__.lower():
        # keyrings.alt's PlaintextKeyring would write the key unencrypted to a file.
        raise ServerKeyError(
            "The only keyring available stores passwords unencrypted, so Hearth will not "
            "keep the API key there."
        )
    try:
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
    except keyring_error as exc:
        raise ServerKeyError(f"The system keyring refused the API key ({exc}).") from None


def delete_server_key() -> None:
    keyring, keyring_error = _keyring()
    if keyring is None:
        return
    try:
        keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
    except keyring_error:
        pass  # nothing stored
