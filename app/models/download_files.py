"""The files a Hub download keeps beside a model while it is not yet installed, and what they
say: `NAME.part` with its `NAME.part.json` sidecar (the expected hash and size, so a later
attempt resumes only a partial of the same remote file) and `NAME.sha256.json` (the marker of a
part already verified, so it is not hashed again). app.models.download writes them;
app.models.removal deletes them with the model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from app.models.hub import RemoteFile
from app.util.atomic_write import write_atomic


def sha256_file(path: Path, digest: hashlib._Hash | None = None) -> hashlib._Hash:
    digest = digest or hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)
    return digest


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def sidecar_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256.json")


def download_leftovers(target: Path) -> tuple[Path, ...]:
    """Files a download of `target` may leave beside it: its verification marker and a
    partial download with its sidecar (whether or not they exist)."""
    part = part_path(target)
    return marker_path(target), part, sidecar_path(part)


def read_sidecar(part: Path) -> dict[str, object]:
    try:
        data = json.loads(sidecar_path(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, object]) -> None:
    try:
        write_atomic(path, json.dumps(data))
    except OSError:
        pass  # only costs a re-download or a re-hash later


def write_marker(target: Path, sidecar: dict[str, object]) -> None:
    stat = target.stat()
    write_json(
        marker_path(target),
        {"sha256": sidecar.get("sha256"), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
    )


def is_verified(target: Path, remote: RemoteFile) -> bool:
    """True when `target` was verified against this remote file and has not changed since."""
    try:
        data = json.loads(marker_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("sha256") == remote.sha256
        and data.get("size") == stat.st_size
        and data.get("mtime_ns") == stat.st_mtime_ns
        and (remote.size is None or remote.size == stat.st_size)
    )


def partial_size(target: Path, remote: RemoteFile) -> int:
    """Bytes of a usable partial download for this exact remote file (else 0)."""
    part = part_path(target)
    if not part.exists():
        return 0
    sidecar = read_sidecar(part)
    if sidecar.get("sha256") != remote.sha256 or sidecar.get("size") != remote.size:
        return 0  # the file changed upstream since the partial was started
    return part.stat().st_size
