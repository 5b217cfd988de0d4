"""One kept KV state file (issue 13): what it holds, how it is written and how it is checked
before llama.cpp sees a byte of it. Llama-free; any thread.

Layout, little-endian:

    b"HEARTHKV"  u32 format version  u32 header length  header (JSON, UTF-8)
    tokens (int32 each)  payload (llama_state_seq_get_data's bytes)

The header holds the conversation key, the identity of what made the state (model file,
context size, cache types, chat format, library versions: kv_state_identity.py), the token
count, the payload's size, the SHA-256 of tokens + payload (1.1 GB/s here against 0.9 for
BLAKE2b), the replies the engine generated in it (their text and sampled ids: a new process
builds the next prompt from the same ids, not from the text tokenized anew, which often
differs) and the SHA-256 of all that. The header is read first and alone: the tokens decide
whether the state can serve a prompt at all, and only then is the payload read and its
checksum verified.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from inference.state_files import Chunk

MAGIC = b"HEARTHKV"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sII")
_MAX_HEADER = 64 << 20  # replies of a 128k-token chat take ~1 MB: anything larger is garbage

Identity = Mapping[str, str | int | bool]
Reply = tuple[str, list[int]]  # a reply's text and the ids it was sampled as


class DamagedStateError(ValueError):
    """The file is not a state this engine wrote intact; the message says what is wrong."""


@dataclass(frozen=True)
class StateHeader:
    key: str
    identity: dict[str, str | int | bool]
    n_tokens: int
    payload_bytes: int
    checksum: str
    offset: int  # where the tokens start in the file
    replies: tuple[Reply, ...] = ()

    @property
    def file_bytes(self) -> int:
        return self.offset + 4 * self.n_tokens + self.payload_bytes


def _token_bytes(tokens: Sequence[int]) -> bytes:
    values = array("i", tokens)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def encode(
    key: str,
    identity: Identity,
    tokens: Sequence[int],
    payload: Chunk,
    replies: Sequence[Reply] = (),
) -> list[Chunk]:
    """The file's bytes as chunks (the payload not copied). Hashes the payload: call it off
    the engine's main thread."""
    token_bytes = _token_bytes(tokens)
    digest = hashlib.sha256(token_bytes)
    digest.update(payload)
    fields = {
        "key": key,
        "identity": dict(identity),
        "n_tokens": len(tokens),
        "payload_bytes": len(memoryview(payload)),
        "checksum": digest.hexdigest(),
        "replies": [[text, list(ids)] for text, ids in replies],
    }
    fields["header_checksum"] = _header_checksum(fields)
    header = json.dumps(fields, sort_keys=True).encode("utf-8")
    return [_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)) + header, token_bytes, payload]


def _header_checksum(fields: Mapping[str, object]) -> str:
    rest = {name: value for name, value in fields.items() if name != "header_checksum"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode("utf-8")).hexdigest()


def read_header(path: Path) -> tuple[StateHeader, list[int]]:
    """The header and the tokens. Raises DamagedStateError (or OSError: unreadable)."""
    with open(path, "rb") as source:
        start = source.read(_PREFIX.size)
        if len(start) < _PREFIX.size:
            raise DamagedStateError("shorter than its header")
        magic, version, length = _PREFIX.unpack(start)
        if magic != MAGIC:
            raise DamagedStateError("not a Hearth KV state")
        if version != FORMAT_VERSION:
            raise DamagedStateError(f"format version {version}, this engine reads {FORMAT_VERSION}")
        if length > _MAX_HEADER:
            raise DamagedStateError("header too large")
        header = _parse_header(source.read(length), _PREFIX.size + length)
        raw = source.read(4 * header.n_tokens)
    if len(raw) != 4 * header.n_tokens:
        raise DamagedStateError("truncated in its tokens")
    tokens = array("i")
    tokens.frombytes(raw)
    if sys.byteorder == "big":
        tokens.byteswap()
    return header, tokens.tolist()


def _parse_header(raw: bytes, offset: int) -> StateHeader:
    try:
        fields = json.loads(raw.decode("utf-8"))
        if fields["header_checksum"] != _header_checksum(fields):
            raise DamagedStateError("header checksum mismatch")
        header = StateHeader(
            key=str(fields["key"]),
            identity=dict(fields["identity"]),
            n_tokens=int(fields["n_tokens"]),
            payload_bytes=int(fields["payload_bytes"]),
            checksum=str(fields["checksum"]),
            offset=offset,
            replies=tuple((str(text), [int(i) for i in ids]) for text, ids in fields["replies"]),
        )
    except DamagedStateError:
        raise
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise DamagedStateError(f"unreadable header ({exc.__class__.__name__})") from exc
    if header.n_tokens <= 0 or header.payload_bytes <= 0:
        raise DamagedStateError("empty state")
    return header


def read_payload(path: Path, header: StateHeader, tokens: Sequence[int]) -> bytearray:
    """The payload, only once its size and checksum (tokens included) are right. Raises
    DamagedStateError (or OSError)."""
    payload = bytearray(header.payload_bytes)
    with open(path, "rb") as source:
        source.seek(header.offset + 4 * header.n_tokens)
        got = source.readinto(payload)
        extra = source.read(1)
    if got != header.payload_bytes:
        raise DamagedStateError(f"truncated ({got} of {header.payload_bytes} payload bytes)")
    if extra:
        raise DamagedStateError("longer than its header says")
    digest = hashlib.sha256(_token_bytes(tokens))
    digest.update(payload)
    if digest.hexdigest() != header.checksum:
        raise DamagedStateError("checksum mismatch")
    return payload
