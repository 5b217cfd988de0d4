"""Reading a Hub model's GGUF header with Range requests (fake hub on 127.0.0.1), and the fit
estimate it gives before any download."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models import remote_header
from app.models.fit import evaluate_fit
from app.models.gguf_layout import read_layout
from app.models.hub import HubClient, HubError, RemoteModel
from app.models.machine import GpuMemory, MachineMemory
from app.models.remote_header import HeaderTooLargeError, read_remote_layout
from inference.gguf import ModelFileError
from tests.support.fake_hub import FakeHub
from tests.support.tiny_gguf import build_tiny_model

GIB = 1 << 30
REPO = "someone/Tiny-GGUF"
MACHINE = MachineMemory(12 * GIB, (GpuMemory("Test GPU", 8 * GIB, 8 * GIB),))


def _model(hub: FakeHub) -> RemoteModel:
    (model,) = HubClient().list_models(REPO)
    return model


def _range_requests(hub: FakeHub, name: str) -> list[str]:
    return [h.get("Range", "") for h in hub.file_requests(name)]


def test_remote_header_gives_the_local_estimate_without_the_weights(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = build_tiny_model(tmp_path / "tiny-Q4_K_M.gguf", n_layer=3, n_head_kv=2)
    data = local.read_bytes()
    hub.add_file(REPO, local.name, data)
    # A first read smaller than the header makes the reader ask for more, as a big
    # vocabulary would with the real sizes.
    monkeypatch.setattr(remote_header, "FIRST_READ", 4096)
    layout = read_remote_layout(HubClient(), _model(hub))

    expected = read_layout(local)
    assert layout.layer_bytes == expected.layer_bytes
    assert layout.info.metadata == expected.info.metadata
    for n_ctx in (512, 8192):
        remote = evaluate_fit(layout, n_ctx, -1, MACHINE)
        assert remote.text == evaluate_fit(expected, n_ctx, -1, MACHINE).text
        assert remote.estimate.kv_bytes > 0
    ranges = _range_requests(hub, local.name)
    assert ranges[:3] == ["bytes=0-4095", "bytes=4096-8191", "bytes=8192-16383"]
    fetched = sum(int(r.split("-")[1]) - int(r.split("=")[1].split("-")[0]) + 1 for r in ranges)
    assert fetched < len(data) / 10  # the header only, not the weights


def test_split_model_reads_every_part_header_for_the_weights(hub: FakeHub, tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "split" / "big-Q8_0.gguf", split_max_tensors=8)
    parts = sorted(first.parent.iterdir())
    assert first == parts[0] and first.name == "big-Q8_0-00001-of-00003.gguf"
    for part in parts:
        hub.add_file(REPO, part.name, part)
    model = _model(hub)
    assert model.total_parts == 3

    layout = read_remote_layout(HubClient(), model)
    whole = read_layout(build_tiny_model(tmp_path / "whole.gguf"))
    assert layout.layer_bytes == whole.layer_bytes
    assert layout.total_bytes == whole.total_bytes
    assert layout.info.block_count == 2
    assert all(_range_requests(hub, p.name) for p in parts)  # each part's header was read


def test_a_header_larger_than_the_limit_is_refused(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = build_tiny_model(tmp_path / "tiny.gguf")
    hub.add_file(REPO, local.name, local)
    monkeypatch.setattr(remote_header, "FIRST_READ", 1024)
    monkeypatch.setattr(remote_header, "MAX_HEADER", 2048)
    with pytest.raises(HeaderTooLargeError, match="larger than"):
        read_remote_layout(HubClient(), _model(hub))


def test_not_a_gguf_and_missing_file_in_plain_words(hub: FakeHub) -> None:
    hub.add_file(REPO, "fake-Q4_0.gguf", b"<html>not a model</html>" * 100)
    with pytest.raises(ModelFileError, match="not a GGUF model"):
        read_remote_layout(HubClient(), _model(hub))
    model = _model(hub)
    del hub.repos[REPO].files["fake-Q4_0.gguf"]
    with pytest.raises(HubError, match="does not exist"):
        read_remote_layout(HubClient(), model)
