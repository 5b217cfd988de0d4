"""Hugging Face access tokens for gated or private repositories, kept in the platform keyring
(Secret Service, macOS Keychain, Windows Credential Locker) and never in the database or the
settings file. Without a usable keyring, tokens come only from HF_TOKEN or huggingface-cli's
own login."""

from __future__ import annotations

import os

KEYRING_SERVICE = "Hearth"
KEYRING_USER = "huggingface-token"


class TokenStoreError(RuntimeError):
    """No keyring is available to store the token; the message says what to do instead."""


def _keyring():  # type: ignore[no-untyped-def]
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None, Exception
    return keyring, KeyringError


def load_token() -> str | None:
    """HF_TOKEN from the environment first (explicit wins), then the keyring."""
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"]
    keyring, keyring_error = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
    except keyring_error:
        return None


def save_token(token: str) -> None:
    token = token.strip()
    if not token:
        raise TokenStoreError("The token is empty.")
    keyring, keyring_error = _keyring()
    if keyring is None:
        raise TokenStoreError(
            "No system keyring is available, so Hearth will not store the token. "
            "Set HF_TOKEN in the environment instead."
        )
    backend = keyring.get_keyring()
    chain = getattr(backend, "backends", None) or [backend]
    if chain and "plaintext" in type(chain[0]).__name__.lower():
        # keyrings.alt's PlaintextKeyring writes the token unencrypted to a file.
        raise TokenStoreError(
            "The only keyring available stores passwords unencrypted, so Hearth will not "
            "store the token. Set HF_TOKEN in the environment instead."
        )
    try:
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, token)
    except keyring_error as exc:
        raise TokenStoreError(
            f"The system keyring refused the token ({exc}). Set HF_TOKEN in the environment "
            "instead."
        ) from None


def delete_token() -> None:
    keyring, keyring_error = _keyring()
    if keyring is None:
        return
    try:
        keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
    except keyring_error:
        pass  # nothing stored
