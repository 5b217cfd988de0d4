"""Search, listing and download against the fake hub on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import huggingface_hub.constants
import pytest
from huggingface_hub import hf_hub_download

from app.config.paths import HearthPaths
from app.models.download import (
    DownloadCancelledError,
    DownloadControl,
    DownloadInterruptedError,
    DownloadPausedError,
    DownloadProgress,
    HashMismatchError,
    download_model,
    model_folder,
    resumable_bytes,
)
from app.models.hub import (
    AuthRequiredError,
    HubClient,
    HubConnectionError,
    NoGGUFFilesError,
    RepoNotFoundError,
)
from app.models.known_folders import hf_hub_cache
from tests.support.fake_hub import FakeHub

REPO = "someone/Tiny-GGUF"


@pytest.fixture
def tiny_repo(hub: FakeHub, tiny_bytes: bytes) -> FakeHub:
    hub.add_repo(REPO, downloads=100)
    hub.add_file(REPO, "tiny-Q4_K_M.gguf", tiny_bytes)
    hub.add_file(REPO, "tiny-Q8_0.gguf", tiny_bytes + b"")
    hub.add_file(REPO, "README.md", b"# tiny")
    return hub


def _client() -> HubClient:
    return HubClient()  # endpoint from HF_ENDPOINT, as the app does


def test_search_finds_gguf_repositories(tiny_repo: FakeHub, tiny_bytes: bytes) -> None:
    tiny_repo.add_file("other/Tiny-safetensors", "model.safetensors", b"x")
    tiny_repo.add_file("popular/tiny-gguf-2", "a-Q4_0.gguf", tiny_bytes)
    tiny_repo.repos["popular/tiny-gguf-2"].downloads = 1000
    results = _client().search("tiny")
    assert [r.repo_id for r in results] == ["popular/tiny-gguf-2", REPO]
    assert results[0].downloads == 1000
    search = [p for m, p, _ in tiny_repo.requests if p == "/api/models"]
    assert search


def test_listing_has_sizes_hashes_and_quantizations(tiny_repo: FakeHub, tiny_bytes: bytes) -> None:
    models = _client().list_models(REPO)
    assert [m.filename for m in models] == ["tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf"]
    first = models[0]
    assert first.quantization == "Q4_K_M"
    assert first.size == len(tiny_bytes)
    assert first.files[0].sha256 == hashlib.sha256(tiny_bytes).hexdigest()


def test_split_files_are_listed_as_one_model(hub: FakeHub) -> None:
    hub.add_file("a/split", "big-Q4_K_M-00001-of-00002.gguf", b"1" * 10)
    hub.add_file("a/split", "big-Q4_K_M-00002-of-00002.gguf", b"2" * 20)
    (model,) = _client().list_models("a/split")
    assert model.complete and len(model.files) == 2 and model.size == 30


def test_repository_errors_in_plain_words(hub: FakeHub) -> None:
    hub.add_file("a/no-gguf", "model.safetensors", b"x")
    with pytest.raises(NoGGUFFilesError, match="has no GGUF files"):
        _client().list_models("a/no-gguf")
    with pytest.raises(RepoNotFoundError, match="no such repository"):
        _client().list_models("a/missing")


def test_gated_repo_needs_a_token(hub: FakeHub, tiny_bytes: bytes, paths: HearthPaths) -> None:
    hub.add_repo("gated/model", gated=True)
    hub.add_file("gated/model", "m-Q4_K_M.gguf", tiny_bytes)
    hub.token = "hf_secret"
    with pytest.raises(AuthRequiredError, match="gated or private"):
        HubClient(token="hf_wrong").list_models("gated/model")
    client = HubClient(token="hf_secret")
    model = client.find_model("gated/model", None)
    path = download_model(client, model, paths.models_dir)
    assert path.read_bytes() == tiny_bytes
    assert all(h.get("Authorization") == "Bearer hf_secret" for h in hub.file_requests(path.name))


def test_download_with_progress_installs_a_verified_file(
    tiny_repo: FakeHub, tiny_bytes: bytes, paths: HearthPaths
) -> None:
    model = _client().find_model(REPO, "Q4_K_M")
    events: list[DownloadProgress] = []
    path = download_model(
        _client(),
        model,
        paths.models_dir,
        on_progress=events.append,
        progress_interval=0,
    )
    assert path == model_folder(paths.models_dir, REPO) / "tiny-Q4_K_M.gguf"
    assert path.read_bytes() == tiny_bytes
    assert not list(path.parent.glob("*.part*"))
    assert len(events) >= 3
    dones = [e.done_bytes for e in events]
    assert dones == sorted(dones) and dones[-1] == len(tiny_bytes)
    assert all(e.total_bytes == len(tiny_bytes) for e in events)
    assert events[-1].speed_bps > 0 and events[-1].eta_s == 0
    # A second pull finds the verified file and transfers nothing.
    before = len(tiny_repo.file_requests("tiny-Q4_K_M.gguf"))
    assert download_model(_client(), model, paths.models_dir) == path
    assert len(tiny_repo.file_requests("tiny-Q4_K_M.gguf")) == before


def test_resume_after_an_interrupted_transfer(
    tiny_repo: FakeHub, tiny_bytes: bytes, paths: HearthPaths
) -> None:
    model = _client().find_model(REPO, "tiny-Q4_K_M.gguf")
    tiny_repo.drop_after = 50_000
    with pytest.raises(DownloadInterruptedError, match="partial file is kept"):
        download_model(_client(), model, paths.models_dir, retries=0)
    part = model_folder(paths.models_dir, REPO) / "tiny-Q4_K_M.gguf.part"
    kept = part.stat().st_size
    assert 0 < kept <= 50_000
    path = download_model(_client(), model, paths.models_dir, retries=0)
    assert path.read_bytes() == tiny_bytes
    last = tiny_repo.file_requests("tiny-Q4_K_M.gguf")[-1]
    assert last.get("Range") == f"bytes={kept}-"


def test_dropped_connection_is_retried_automatically(
    tiny_repo: FakeHub, tiny_bytes: bytes, paths: HearthPaths
) -> None:
    tiny_repo.drop_after, tiny_repo.drop_times = 30_000, 2
    model = _client().find_model(REPO, "Q4_K_M")
    path = download_model(_client(), model, paths.models_dir, retries=3, retry_delay=0)
    assert path.read_bytes() == tiny_bytes
    ranges = [h.get("Range") for h in tiny_repo.file_requests("tiny-Q4_K_M.gguf")]
    assert len(ranges) == 3 and ranges[0] is None
    assert all(r is not None and r.startswith("bytes=") for r in ranges[1:])


def test_hash_mismatch_installs_nothing(tiny_repo: FakeHub, paths: HearthPaths) -> None:
    tiny_repo.corrupt.add("tiny-Q4_K_M.gguf")
    model = _client().find_model(REPO, "Q4_K_M")
    with pytest.raises(HashMismatchError, match=r"SHA-256.*nothing was installed"):
        download_model(_client(), model, paths.models_dir)
    folder = model_folder(paths.models_dir, REPO)
    assert list(folder.iterdir()) == []


def test_cancel_deletes_the_partial_file(tiny_repo: FakeHub, paths: HearthPaths) -> None:
    control = DownloadControl()

    def cancel_after_first(event: DownloadProgress) -> None:
        control.cancel()

    model = _client().find_model(REPO, "Q4_K_M")
    with pytest.raises(DownloadCancelledError):
        download_model(
            _client(),
            model,
            paths.models_dir,
            control=control,
            on_progress=cancel_after_first,
            progress_interval=0,
        )
    assert list(model_folder(paths.models_dir, REPO).iterdir()) == []


def test_pause_keeps_the_partial_file_for_resume(
    tiny_repo: FakeHub, tiny_bytes: bytes, paths: HearthPaths
) -> None:
    control = DownloadControl()
    model = _client().find_model(REPO, "Q4_K_M")
    with pytest.raises(DownloadPausedError):
        download_model(
            _client(),
            model,
            paths.models_dir,
            control=control,
            on_progress=lambda e: control.pause(),
            progress_interval=0,
        )
    part = model_folder(paths.models_dir, REPO) / "tiny-Q4_K_M.gguf.part"
    kept = part.stat().st_size
    assert 0 < kept < len(tiny_bytes)
    path = download_model(_client(), model, paths.models_dir)
    assert path.read_bytes() == tiny_bytes
    assert tiny_repo.file_requests("tiny-Q4_K_M.gguf")[-1].get("Range") == f"bytes={kept}-"


def test_network_error_in_plain_words(tiny_repo: FakeHub, paths: HearthPaths) -> None:
    model = _client().find_model(REPO, "Q4_K_M")
    dead = HubClient(endpoint="http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(
        HubConnectionError, match=re.escape("Cannot reach 127.0.0.1:9: the connection was refused)")
    ):
        download_model(dead, model, paths.models_dir, retries=0)


def test_existing_hf_cache_file_is_reused(
    tiny_repo: FakeHub, tiny_bytes: bytes, paths: HearthPaths
) -> None:
    # huggingface-hub itself downloads into the standard cache from the fake hub ...
    cached = hf_hub_download(
        REPO, "tiny-Q4_K_M.gguf", endpoint=tiny_repo.endpoint, cache_dir=hf_hub_cache()
    )
    assert Path(cached).read_bytes() == tiny_bytes
    # ... and Hearth then uses that copy in place instead of downloading it again.
    before = len(tiny_repo.file_requests("tiny-Q4_K_M.gguf"))
    model = _client().find_model(REPO, "Q4_K_M")
    assert download_model(_client(), model, paths.models_dir) == Path(cached)
    assert len(tiny_repo.file_requests("tiny-Q4_K_M.gguf")) == before


def test_hf_hub_download_follows_the_cdn_redirect(tiny_repo: FakeHub, tiny_bytes: bytes) -> None:
    tiny_repo.redirect = True
    cached = hf_hub_download(
        REPO, "tiny-Q8_0.gguf", endpoint=tiny_repo.endpoint, cache_dir=hf_hub_cache()
    )
    assert Path(cached).read_bytes() == tiny_bytes


def test_split_model_downloads_every_part(hub: FakeHub, paths: HearthPaths) -> None:
    hub.add_file("a/split", "big-00001-of-00002.gguf", b"1" * 1000)
    hub.add_file("a/split", "big-00002-of-00002.gguf", b"2" * 2000)
    (model,) = _client().list_models("a/split")
    first = download_model(_client(), model, paths.models_dir)
    assert first.name == "big-00001-of-00002.gguf"
    assert (first.parent / "big-00002-of-00002.gguf").read_bytes() == b"2" * 2000


_CHILD_DOWNLOAD = """
import sys
from pathlib import Path
from app.models.download import download_model
from app.models.hub import HubClient
client = HubClient(endpoint=sys.argv[1])
model = client.find_model(sys.argv[2], sys.argv[3])
download_model(client, model, Path(sys.argv[4]), use_hf_cache=False)
"""
ROOT = Path(__file__).resolve().parents[3]


def test_a_download_killed_with_its_process_resumes_from_the_partial_file(
    tiny_repo: FakeHub, tiny_bytes: bytes, paths: HearthPaths
) -> None:
    """The app is killed mid-download (power cut, OOM killer): the next run resumes."""
    tiny_repo.delay_per_chunk = 0.05  # ~8 KB per 50 ms: the kill lands mid-transfer
    part = model_folder(paths.models_dir, REPO) / "tiny-Q4_K_M.gguf.part"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD_DOWNLOAD, tiny_repo.endpoint, REPO, "Q4_K_M",
         str(paths.models_dir)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (part.exists() and part.stat().st_size >= 16_384):
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    kept = part.stat().st_size
    assert 0 < kept < len(tiny_bytes)
    model = _client().find_model(REPO, "Q4_K_M")
    assert resumable_bytes(paths.models_dir, model) == kept  # what the Hub tab offers

    tiny_repo.delay_per_chunk = 0
    path = download_model(_client(), model, paths.models_dir, use_hf_cache=False)
    assert path.read_bytes() == tiny_bytes
    assert tiny_repo.file_requests("tiny-Q4_K_M.gguf")[-1].get("Range") == f"bytes={kept}-"
    assert resumable_bytes(paths.models_dir, model) == len(tiny_bytes)  # installed whole
    assert not part.exists()


_CHILD_FULL_DISK = """
import json, os, sys
from pathlib import Path
from app.models.download import DiskFullError, download_model
from app.models.hub import HubClient

disk, endpoint, repo = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
models, filler = disk / "models", disk / "filler"
client = HubClient(endpoint=endpoint)
model = client.find_model(repo, "Q4_K_M")
part = models / "huggingface" / "someone" / "Tiny-GGUF" / "tiny-Q4_K_M.gguf.part"
out = {}

def fill(keep_free: int = 0) -> None:
    with filler.open("ab", buffering=0) as handle:
        try:
            while True:
                handle.write(b"x" * 4096)
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - keep_free))

def listing() -> list[str]:
    return sorted(p.name for p in models.rglob("*") if p.is_file())

# 1. Not enough room before the download starts: refused before any byte is fetched.
models.mkdir()
fill(keep_free=model.size // 2)
try:
    download_model(client, model, models, use_hf_cache=False)
except DiskFullError as exc:
    out["before"] = str(exc)
out["before_files"] = listing()
filler.unlink()

# 2. Another program fills the disk while the download runs.
def on_progress(event) -> None:
    if not filler.exists():
        fill()

try:
    download_model(client, model, models, use_hf_cache=False, on_progress=on_progress,
                   progress_interval=0)
except DiskFullError as exc:
    out["during"] = str(exc)
out["during_files"] = listing()
out["kept"] = part.stat().st_size if part.exists() else -1

# 3. Space freed: the same download resumes and installs a verified file.
filler.unlink()
path = download_model(client, model, models, use_hf_cache=False)
out["installed"] = path.stat().st_size
out["after_files"] = listing()
print(json.dumps(out))
"""


def test_a_full_disk_is_said_plainly_and_the_download_resumes_after_space_is_freed(
    tiny_repo: FakeHub, tiny_bytes: bytes, tmp_path: Path
) -> None:
    """A real full disk: a 4 MiB tmpfs in a private mount namespace (`unshare`), so nothing
    outside the test sees it. Skipped where the system allows no such namespace."""
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux's unshare to mount a small private filesystem")
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=4m none "$0"', str(disk)],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    mount_and_run = 'mount -t tmpfs -o size=4m none "$0" && exec "$@"'
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", mount_and_run, str(disk), sys.executable, "-c",
         _CHILD_FULL_DISK, str(disk), tiny_repo.endpoint, REPO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["before"].startswith("Not enough disk space: the download needs ")
    assert out["before_files"] == []
    assert "The disk is full" in out["during"] and "the partial file is kept" in out["during"]
    assert "tiny-Q4_K_M.gguf" not in out["during_files"]  # nothing installed
    assert 0 < out["kept"] < len(tiny_bytes)
    assert out["installed"] == len(tiny_bytes)
    assert out["after_files"] == ["tiny-Q4_K_M.gguf", "tiny-Q4_K_M.gguf.sha256.json"]
    ranges = [h.get("Range") for h in tiny_repo.file_requests("tiny-Q4_K_M.gguf")]
    assert ranges[-1] == f"bytes={out['kept']}-"


# ---- no network: one short attempt and one plain line, never a retry storm ----------------


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline mode off, as on a user's computer (the suite turns it on)."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def test_search_with_a_name_that_does_not_resolve_fails_at_once(
    online: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What a computer without a network sees: the name lookup fails. One lookup, no
    retries (huggingface-hub's backoff slept 1+2+4+8+8 s and logged each try)."""
    lookups: list[object] = []
    real_getaddrinfo = socket.getaddrinfo

    def counting(host: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    client = HubClient(endpoint="https://hub.invalid")  # RFC 6761: never resolves
    with pytest.raises(HubConnectionError) as raised:
        client.search("gemma")
    assert str(raised.value) == (
        "Cannot reach hub.invalid: no network connection (name lookup failed)."
    )
    assert lookups == ["hub.invalid"]
    assert "thrown while requesting" not in caplog.text and "Retrying" not in caplog.text
    with pytest.raises(HubConnectionError, match=r"^Cannot reach hub\.invalid: no network"):
        client.list_models("someone/model")


def test_a_refused_connection_is_said_plainly(online: None) -> None:
    with socket.socket() as probe:  # a free port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HubConnectionError) as raised:
        HubClient(endpoint=f"http://127.0.0.1:{port}").search("gemma")
    assert str(raised.value) == f"Cannot reach 127.0.0.1:{port}: the connection was refused."


def test_a_server_that_never_answers_gets_one_attempt_and_a_time_limit(online: None) -> None:
    """The connection is accepted (by the kernel) but no answer comes: the search gives up
    after its answer timeout, having connected exactly once."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        client = HubClient(endpoint=f"http://127.0.0.1:{port}", answer_timeout=0.3)
        with pytest.raises(HubConnectionError) as raised:
            client.search("gemma")
        assert str(raised.value) == f"Cannot reach 127.0.0.1:{port}: it did not answer in time."
        server.settimeout(0.2)
        first, _ = server.accept()  # the one attempt, still queued
        first.close()
        with pytest.raises(TimeoutError):
            server.accept()  # and no second one
