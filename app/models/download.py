"""Download a model from the Hub with progress, pause/cancel, resume and SHA-256 checks.

Files are written as `NAME.part` next to their final place with a `NAME.part.json` sidecar
that records the expected hash and size, so a later call (after a pause, a crash or a dropped
connection) resumes with an HTTP Range request instead of starting over. Only after every part
of a model matches the hub's LFS SHA-256 are the parts renamed into place: a model that failed
verification is never installed. Runs on the caller's thread (the GUI uses a worker thread);
`DownloadControl` may be triggered from any thread.
"""

from __future__ import annotations

import errno
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from huggingface_hub import get_session, hf_hub_url, try_to_load_from_cache
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

from app.models.download_files import (
    is_verified,
    marker_path,
    part_path,
    partial_size,
    read_sidecar,
    sha256_file,
    sidecar_path,
    write_json,
    write_marker,
)
from app.models.hub import HubClient, HubConnectionError, HubError, RemoteFile, RemoteModel
from app.models.hub import plain_errors as _plain_errors
from app.models.known_folders import hf_hub_cache
from app.util.atomic_write import replace_file
from inference.gguf import ModelFileError, human_size, inspect_gguf


class DownloadCancelledError(HubError):
    pass


class DownloadPausedError(HubError):
    pass


class DownloadInterruptedError(HubConnectionError):
    pass


class HashMismatchError(HubError):
    pass


class DiskFullError(HubError):
    pass


@dataclass(frozen=True)
class DownloadProgress:
    filename: str
    done_bytes: int  # all parts together, including bytes resumed from earlier attempts
    total_bytes: int | None
    speed_bps: float  # this session's transfer rate
    eta_s: float | None


ProgressCallback = Callable[[DownloadProgress], None]


class DownloadControl:
    """Pause keeps the partial file for a later resume; cancel deletes it."""

    def __init__(self) -> None:
        self._pause = threading.Event()
        self._cancel = threading.Event()

    def pause(self) -> None:
        self._pause.set()

    def cancel(self) -> None:
        self._cancel.set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise DownloadCancelledError("The download was cancelled.")
        if self._pause.is_set():
            raise DownloadPausedError("The download is paused; start it again to resume.")


def model_folder(models_dir: Path, repo_id: str) -> Path:
    """Where Hub downloads go inside Hearth's models folder: one folder per repository."""
    owner, _, name = repo_id.partition("/")
    return models_dir / "huggingface" / owner / (name or owner)


class _Transfer:
    """Progress bookkeeping over all parts of one model."""

    def __init__(
        self, total: int | None, on_progress: ProgressCallback | None, interval: float
    ) -> None:
        self.total = total
        self.done = 0
        self.session_bytes = 0
        self.started = time.monotonic()
        self.on_progress = on_progress
        self.interval = interval
        self.last_report = 0.0

    def report(self, filename: str, *, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self.last_report < self.interval:
            return
        self.last_report = now
        elapsed = max(now - self.started, 1e-6)
        speed = self.session_bytes / elapsed
        eta = None
        if self.total is not None and speed > 0:
            eta = max(self.total - self.done, 0) / speed
        self.on_progress(DownloadProgress(filename, self.done, self.total, speed, eta))


def download_model(
    client: HubClient,
    model: RemoteModel,
    models_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    control: DownloadControl | None = None,
    retries: int = 3,
    retry_delay: float = 1.0,
    progress_interval: float = 0.1,
    use_hf_cache: bool = True,
) -> Path:
    """Download (or resume) every part of `model`, verify, install; return the path to load.

    A copy already in the Hugging Face cache with the right hash is used in place. Raises
    DownloadPausedError / DownloadCancelledError, DownloadInterruptedError (partial kept),
    HashMismatchError (partial deleted), DiskFullError (partial kept), HubError.
    """
    if not model.complete:
        raise HubError(
            f"{model.filename}: the repository lacks some parts of this split model "
            f"({len(model.files)} of {model.total_parts})."
        )
    control = control or DownloadControl()
    if use_hf_cache and (cached := _from_hf_cache(model)) is not None:
        return cached
    folder = model_folder(models_dir, model.repo_id)
    targets = [folder / PurePosixPath(f.filename).name for f in model.files]
    if all(t.exists() and is_verified(t, f) for t, f in zip(targets, model.files, strict=True)):
        return targets[0]
    folder.mkdir(parents=True, exist_ok=True)
    transfer = _Transfer(model.size, on_progress, progress_interval)
    remaining = sum(
        (f.size or 0) - partial_size(t, f) for t, f in zip(targets, model.files, strict=True)
    )
    free = shutil.disk_usage(folder).free
    if remaining > free:
        raise DiskFullError(
            f"Not enough disk space: the download needs {human_size(remaining)} more but "
            f"only {human_size(free)} is free in {folder}."
        )
    for target, remote in zip(targets, model.files, strict=True):
        if target.exists() and is_verified(target, remote):
            transfer.done += target.stat().st_size
            continue
        _download_file(client, model, remote, target, transfer, control, retries, retry_delay)
    # Every part verified: install them together.
    for target in targets:
        part = part_path(target)
        if part.exists():
            replace_file(part, target)
            write_marker(target, read_sidecar(part))
            sidecar_path(part).unlink(missing_ok=True)
    if model.total_parts == 1:
        _check_header(targets[0])
    transfer.report(model.filename, force=True)
    return targets[0]


def _check_header(path: Path) -> None:
    """The hash matched the hub, yet the file may still not be a usable GGUF."""
    try:
        inspect_gguf(path)
    except ModelFileError as exc:
        path.unlink(missing_ok=True)
        marker_path(path).unlink(missing_ok=True)
        raise HubError(f"{path.name} was downloaded but cannot be used: {exc}") from None


def _from_hf_cache(model: RemoteModel) -> Path | None:
    """Reuse files the user already has in the standard Hugging Face cache (no copy)."""
    cache = hf_hub_cache()
    found: list[Path] = []
    for remote in model.files:
        hit = try_to_load_from_cache(
            model.repo_id, remote.filename, cache_dir=cache, revision=model.revision
        )
        if not isinstance(hit, str):
            return None
        path = Path(hit)
        if remote.size is not None and path.stat().st_size != remote.size:
            return None
        if remote.sha256 and sha256_file(path).hexdigest() != remote.sha256:
            return None
        found.append(path)
    return found[0] if found else None


def resumable_bytes(models_dir: Path, model: RemoteModel) -> int:
    """Bytes of `model` already on disk from an earlier attempt that a new download keeps
    (a paused, interrupted or crashed one): partial files for these exact remote files plus
    parts already verified. 0 when nothing would be resumed."""
    folder = model_folder(models_dir, model.repo_id)
    kept = 0
    for remote in model.files:
        target = folder / PurePosixPath(remote.filename).name
        if target.exists() and is_verified(target, remote):
            kept += target.stat().st_size
        else:
            kept += partial_size(target, remote)
    return kept


def _download_file(
    client: HubClient,
    model: RemoteModel,
    remote: RemoteFile,
    target: Path,
    transfer: _Transfer,
    control: DownloadControl,
    retries: int,
    retry_delay: float,
) -> None:
    part = part_path(target)
    if partial_size(target, remote) == 0:
        part.unlink(missing_ok=True)
    write_json(sidecar_path(part), {"sha256": remote.sha256, "size": remote.size})
    base_done = transfer.done
    attempt = 0
    while True:
        try:
            _fetch(client, model, remote, part, transfer, control, base_done)
            break
        except HubConnectionError as exc:  # includes transport errors, translated
            attempt += 1
            if attempt > retries:
                have = part.stat().st_size if part.exists() else 0
                total = human_size(remote.size) if remote.size else "?"
                raise DownloadInterruptedError(
                    f"The connection dropped while downloading {remote.filename} "
                    f"({human_size(have)} of {total} received; {str(exc).rstrip('.')}). "
                    "The partial file is kept: start the download again to resume."
                ) from None
            time.sleep(retry_delay * attempt)
        except DownloadCancelledError:
            part.unlink(missing_ok=True)
            sidecar_path(part).unlink(missing_ok=True)
            raise
    _verify(remote, part, transfer)


def _fetch(
    client: HubClient,
    model: RemoteModel,
    remote: RemoteFile,
    part: Path,
    transfer: _Transfer,
    control: DownloadControl,
    base_done: int,
) -> None:
    """One HTTP request: resume from the partial file's size and append to it."""
    control.check()
    offset = part.stat().st_size if part.exists() else 0
    if remote.size is not None and offset >= remote.size:
        return  # already complete; verification decides
    url = hf_hub_url(
        model.repo_id, remote.filename, revision=model.revision, endpoint=client.endpoint
    )
    headers = build_hf_headers(token=client.token)
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with (
        _plain_errors(f"Downloading {remote.filename}", client.endpoint),
        get_session().stream(
            "GET", url, headers=headers, follow_redirects=True, timeout=30.0
        ) as response,
    ):
        if response.status_code == 416:
            part.unlink(missing_ok=True)  # our partial is longer than the file: start over
            raise DownloadInterruptedError("range not satisfiable")
        if response.status_code >= 400:
            response.read()  # the error details are in the body
            hf_raise_for_status(response)
        if offset and response.status_code != 206:
            offset = 0  # the server ignored the Range header: take the whole file
        transfer.done = base_done + offset
        mode = "ab" if offset else "wb"
        try:
            with part.open(mode) as out:
                # Write blocks as they arrive (no re-chunking): a dropped connection then
                # loses nothing that was already received.
                for block in response.iter_bytes():
                    control.check()
                    out.write(block)
                    transfer.done += len(block)
                    transfer.session_bytes += len(block)
                    transfer.report(remote.filename)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFullError(
                    f"The disk is full; {remote.filename} could not be written. Free some "
                    "space and start the download again: the partial file is kept."
                ) from None
            raise HubError(f"Could not write {part}: {exc.strerror or exc}.") from None
    got = part.stat().st_size
    if remote.size is not None and got < remote.size:
        raise DownloadInterruptedError(f"short read ({got} of {remote.size} bytes)")


def _verify(remote: RemoteFile, part: Path, transfer: _Transfer) -> None:
    size = part.stat().st_size
    if remote.size is not None and size != remote.size:
        part.unlink(missing_ok=True)
        sidecar_path(part).unlink(missing_ok=True)
        raise HashMismatchError(
            f"{remote.filename} has the wrong size ({size} bytes, expected {remote.size}); "
            "it was deleted and nothing was installed."
        )
    if remote.sha256 is None:
        return  # a small non-LFS file: the hub publishes no SHA-256 for it
    transfer.report(remote.filename, force=True)
    if sha256_file(part).hexdigest() != remote.sha256:
        part.unlink(missing_ok=True)
        sidecar_path(part).unlink(missing_ok=True)
        raise HashMismatchError(
            f"{remote.filename} does not match the SHA-256 published on Hugging Face (the "
            "download was corrupted); it was deleted and nothing was installed."
        )
