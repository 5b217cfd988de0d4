"""Secrets kept in the platform keyring (Secret Service, macOS Keychain, Windows Credential
Locker), never in the settings file or the database: the Hub token (app/models/tokens.py),
remote servers' API keys (app/models/connection_keys.py) and the window's own API server key
(app/config/api_server_key.py). One copy of the rules: no keyring (the package missing, or
none usable) means nothing is kept; a keyring that would write the secret unencrypted to a
file (keyrings.alt's PlaintextKeyring) is refused."""

from __future__ import annotations

from typing import Any

SERVICE = "Hearth"


class SecretStoreError(RuntimeError):
    """The secret could not be kept; the message says why in plain words."""


def _keyring() -> tuple[Any, type[Exception]]:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None, Exception
    return keyring, KeyringError


def load_secret(user: str) -> str | None:
    """The secret stored under `user`, or None (none stored, or no keyring)."""
    keyring, keyring_error = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(SERVICE, user) or None
    except keyring_error:
        return None


def save_secret(user: str, secret: str, what: str, instead: str = "") -> None:
    """Keep `secret` under `user`. Raises SecretStoreError naming `what` ("the token", "the
    API key") and ending with `instead` (what the user can do without a keyring)."""
    tail = f" {instead}" if instead else ""
    keyring, keyring_error = _keyring()
    if keyring is None:
        raise SecretStoreError(f"No system keyring is available to keep {what}.{tail}")
    backend = keyring.get_keyring()
    chain = getattr(backend, "backends", None) or [backend]
    if chain and "plaintext" in type(chain[0]).__name__.lower():
        raise SecretStoreError(
            "The only keyring available stores passwords unencrypted, so Hearth will not "
            f"keep {what} there.{tail}"
        )
    try:
        keyring.set_password(SERVICE, user, secret)
    except keyring_error as exc:
        raise SecretStoreError(f"The system keyring refused {what} ({exc}).{tail}") from None


def delete_secret(user: str) -> bool:
    """Forget the secret stored under `user`; False when none was (or no keyring)."""
    keyring, keyring_error = _keyring()
    if keyring is None:
        return False
    try:
        keyring.delete_password(SERVICE, user)
    except keyring_error:
        return False
    return True
