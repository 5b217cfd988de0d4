"""The kept-state writer thread (issue 13): a full disk skips the state, eviction keeps the
budget, and a written file reads back intact."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path

from inference.process.kv_state_file import encode, read_header, read_payload
from inference.process.kv_state_writer import StateWriter, WriteJob
from inference.state_files import Chunk, StateFiles


def _job(files: StateFiles, key: str, size: int) -> WriteJob:
    tokens = list(range(64))
    payload = bytearray(b"\x07" * size)
    return WriteJob(files, files.path_for(key, "m"), key, {"n_ctx": 512}, tokens, payload)


def test_a_full_disk_skips_the_state(tmp_path: Path) -> None:
    def full_disk(path: Path, chunks: Sequence[Chunk]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    files = StateFiles(tmp_path / "kv", 1 << 20, writer=full_disk)
    results: list[bool] = []
    writer = StateWriter(on_done=lambda job, written: results.append(written))
    writer.submit(_job(files, "chat:1", 1000))
    writer.close()
    assert results == [False]
    assert files.usage() == 0


def test_each_write_evicts_down_to_the_budget(tmp_path: Path) -> None:
    files = StateFiles(tmp_path / "kv", 2500)
    writer = StateWriter()
    for key in ("chat:1", "chat:2", "chat:3"):
        writer.submit(_job(files, key, 1000))
        writer.wait_idle()
    writer.close()
    assert files.usage() <= 2500
    assert not files.paths_of("chat:1") and files.paths_of("chat:3")


def test_a_written_state_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "s.kvstate"
    replies = [("hello", [5, 6])]
    chunks = encode("chat:9", {"n_ctx": 512}, [1, 2, 3], b"payload", replies)
    path.write_bytes(b"".join(bytes(c) for c in chunks))
    header, tokens = read_header(path)
    assert (header.key, tokens, header.replies) == ("chat:9", [1, 2, 3], (("hello", [5, 6]),))
    assert bytes(read_payload(path, header, tokens)) == b"payload"
