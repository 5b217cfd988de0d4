"""The folder of kept KV states (issue 13, "Instant resume"): one file per conversation key
and model, least recently used first out when the folder outgrows its budget.

Qt-free and llama-free: the engine process writes and reads the files (the format of one
file is inference/process/kv_state_file.py), the app shows `usage()`, clears the folder and
forgets a deleted conversation's states. Both may work on the folder at once: every write is
a temporary file renamed into place, and a file that vanishes under a reader is just a miss.

A file's modification time is its last use (`touch` on every restore), which is what
`evict` orders by. File names: `<key hash>-<slot>.kvstate`, the slot naming the model file,
so one conversation keeps a state per model it was continued with.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_BUDGET_BYTES = 4 << 30  # 4 GiB: about 200 Gemma-270M or 8 Llama-8B 4k-token chats
SUFFIX = ".kvstate"
_PARTIAL = ".partial"
# A temporary file this old is left over from a writer that died (a crash mid-write).
_STALE_PARTIAL_S = 600.0

Chunk = bytes | bytearray | memoryview
# Writes `chunks` in order to a new file at the path (the temporary file); raises OSError
# (ENOSPC on a full disk). A constructor parameter so tests can make the disk full.
Writer = Callable[[Path, Sequence[Chunk]], None]


def write_chunks(path: Path, chunks: Sequence[Chunk]) -> None:
    """The default Writer. No fsync: a state cut short by a power loss fails its checksum
    and is deleted when next read, which costs one prefill, not a wrong reply."""
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)


def key_hash(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()


# Keys naming the fixed start of many prompts (a summary's or a translation's instructions
# and glossary) rather than a conversation: the engine keeps only the part the key's prompts
# share (inference/process/kv_state.py). The callers never tokenize: they name the text.
FIXED_PART = "fixed-part/"


def fixed_part_key(kind: str, *texts: str) -> str:
    """The state key of prompts that all start with `texts` (instructions, glossary, the
    settings the model sees): `kind` ("summary", "translate") and a hash of the texts, so a
    changed instruction is another key and never restores the old one's state."""
    digest = hashlib.blake2b("\x00".join(texts).encode("utf-8"), digest_size=8).hexdigest()
    return f"{FIXED_PART}{kind}:{digest}"


def is_fixed_part_key(key: str) -> bool:
    return key.startswith(FIXED_PART)


def slot_for(model_path: str) -> str:
    """The part of a state's file name that names the model it was made with."""
    return hashlib.blake2b(model_path.encode("utf-8"), digest_size=6).hexdigest()


def clamp_budget(value: object, folder: Path) -> int:
    """The budget in bytes that `value` asks for, made sensible with a logged warning: not a
    whole number of bytes (text, NaN, infinity) -> the default, negative -> 0 (keep nothing),
    more than the disk holds -> the disk's size."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(type(value).__name__)
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(str(value))
        budget = int(number)
    except (TypeError, ValueError, OverflowError):
        log.warning("KV state budget %r is not a number of bytes; using 4 GiB", value)
        return DEFAULT_BUDGET_BYTES
    if budget < 0:
        log.warning("KV state budget %d is negative; keeping no states", budget)
        return 0
    disk = _disk_size(folder)
    if disk and budget > disk:
        log.warning(
            "KV state budget %d exceeds the disk (%d bytes); using the disk's size", budget, disk
        )
        return disk
    return budget


def _disk_size(folder: Path) -> int:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return int(shutil.disk_usage(probe).total)
    except OSError:
        return 0


class StateFiles:
    """The states folder. Any thread; nothing is cached between calls, so the engine's
    writer and the app may both hold one on the same folder."""

    def __init__(
        self,
        folder: Path,
        budget_bytes: object = DEFAULT_BUDGET_BYTES,
        writer: Writer = write_chunks,
    ) -> None:
        self.folder = Path(folder)
        self.budget_bytes = clamp_budget(budget_bytes, self.folder)
        self._writer = writer

    # ---- what the app uses --------------------------------------------------------------

    def usage(self) -> int:
        """Bytes the kept states take now (files being written included)."""
        return sum(size for _, size, _ in self._entries(include_partial=True))

    def clear(self) -> int:
        """Delete every kept state; returns how many files went."""
        return sum(self.remove(path) for path, _, _ in self._entries(include_partial=True))

    def forget(self, key: str) -> int:
        """Delete every state of `key` (a deleted conversation's, for each model)."""
        return sum(self.remove(path) for path in self.paths_of(key))

    def evict(self) -> int:
        """Delete least recently used states until the folder is within its budget; returns
        how many went. Temporary files of writers that died go first."""
        removed = 0
        now = time.time()
        entries = self._entries(include_partial=True)
        kept: list[tuple[Path, int, float]] = []
        for path, size, used in entries:
            if path.name.endswith(_PARTIAL) and now - used > _STALE_PARTIAL_S:
                removed += self.remove(path)
            else:
                kept.append((path, size, used))
        total = sum(size for _, size, _ in kept)
        for path, size, _ in sorted(kept, key=lambda entry: entry[2]):
            if total <= self.budget_bytes:
                break
            if path.name.endswith(_PARTIAL):
                continue  # being written now: its writer evicts again when done
            if self.remove(path):
                removed += 1
                total -= size
        return removed

    # ---- what the engine uses -----------------------------------------------------------

    def path_for(self, key: str, slot: str) -> Path:
        return self.folder / f"{key_hash(key)}-{slot}{SUFFIX}"

    def paths_of(self, key: str) -> list[Path]:
        prefix = key_hash(key) + "-"
        return [p for p, _, _ in self._entries() if p.name.startswith(prefix)]

    def write(self, path: Path, chunks: Sequence[Chunk]) -> None:
        """Write `chunks` as the file at `path`, replacing it at once (a reader sees the old
        file or the new one, never half of one). Raises OSError; nothing is left behind."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}{_PARTIAL}")
        try:
            self._writer(partial, chunks)
            os.replace(partial, path)
        except BaseException:
            self.remove(partial)
            raise

    def touch(self, path: Path) -> None:
        """Mark a state used now (least recently used goes first)."""
        try:
            os.utime(path)
        except OSError:
            pass

    def remove(self, path: Path) -> bool:
        try:
            path.unlink()
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("Could not delete the KV state %s: %s", path, exc)
            return False

    def _entries(self, include_partial: bool = False) -> list[tuple[Path, int, float]]:
        """(path, bytes, last use) of each state file; a file gone meanwhile is skipped."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        entries = []
        for name in names:
            if not (name.endswith(SUFFIX) or (include_partial and name.endswith(_PARTIAL))):
                continue
            path = self.folder / name
            try:
                info = path.stat()
            except OSError:
                continue
            entries.append((path, int(info.st_size), float(info.st_mtime)))
        return entries
