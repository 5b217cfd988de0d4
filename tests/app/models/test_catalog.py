from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.config.paths import HearthPaths
from app.models import catalog
from app.models.catalog import (
    ModelEntry,
    find_model,
    import_model,
    list_installed,
    parse_size_label,
    remove_import,
    scan_known_folders,
)
from app.models.default_model import DEFAULT_MODEL_FILE, default_model_path
from app.models.registry import registry_path
from inference.gguf import ModelFileError
from tests.support.tiny_gguf import build_tiny_model


def added(paths: HearthPaths) -> list[ModelEntry]:
    """What is listed besides the built-in model (which always is, first)."""
    builtin, *others = list_installed(paths)
    assert builtin.source == catalog.SOURCE_BUILTIN
    return others


def test_the_builtin_model_is_listed_before_and_after_it_is_unpacked(
    paths: HearthPaths, gemma_model: Path
) -> None:
    """A fresh data folder: the built-in model is not unpacked yet (the first start does
    that) but is the model in use, so it is listed with its metadata, usable, under the
    name the app uses for it everywhere."""
    assert not default_model_path(paths.models_dir).exists()
    (before,) = list_installed(paths)
    assert before.source == catalog.SOURCE_BUILTIN and before.packaged and before.usable
    assert before.path == default_model_path(paths.models_dir)
    assert before.display_name == "Gemma 3 270m · Q4_K_M"
    assert (before.architecture, before.parameters_label) == ("gemma3", "270M")
    assert before.context_length == 32768 and before.file_size == gemma_model.stat().st_size
    assert catalog.model_layout(before.path, paths.models_dir).n_layers == 18
    assert find_model(paths, "built-in") == before

    default_model_path(paths.models_dir).symlink_to(gemma_model)  # as the first start leaves it
    (after,) = list_installed(paths)
    assert after.source == catalog.SOURCE_BUILTIN and not after.packaged and after.usable
    fields = ("display_name", "architecture", "parameters_label", "quantization", "file_size")
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
    assert after.context_length == before.context_length and after.path.name == DEFAULT_MODEL_FILE


def test_lists_models_folder_with_metadata(paths: HearthPaths) -> None:
    build_tiny_model(
        paths.models_dir / "sub" / "tiny-Q8_0.gguf", chat_template="{{ x }}", context_length=4096
    )
    (entry,) = added(paths)
    assert entry.usable
    assert entry.name == "tiny-test"
    assert entry.architecture == "llama"
    assert entry.quantization == "F32"  # the header's file type wins over the file name
    assert entry.context_length == 4096
    assert entry.has_chat_template
    assert entry.source == catalog.SOURCE_FOLDER
    assert entry.file_size == entry.path.stat().st_size
    # No general.size_label in the tiny model: counted from tensor shapes.
    assert entry.parameters is not None and 50_000 < entry.parameters < 1_000_000
    assert entry.parameters_label is not None and entry.parameters_label.endswith("K")


def test_broken_file_in_models_folder_is_listed_with_an_error(paths: HearthPaths) -> None:
    (paths.models_dir / "junk.gguf").write_text("not a model")
    (entry,) = added(paths)
    assert not entry.usable
    assert "not a GGUF" in (entry.error or "")


def test_import_references_the_file_without_copying(paths: HearthPaths, tmp_path: Path) -> None:
    source = build_tiny_model(tmp_path / "elsewhere" / "mine.gguf")
    entry = import_model(paths, source)
    assert entry.path == source.resolve()
    assert list(paths.models_dir.rglob("*.gguf")) == []
    (listed,) = added(paths)
    assert listed.source == catalog.SOURCE_IMPORTED and listed.path == source.resolve()
    # Importing twice registers once.
    import_model(paths, source)
    assert json.loads(registry_path(paths.data_dir).read_text())["paths"] == [str(source.resolve())]
    assert remove_import(paths, source)
    assert added(paths) == []
    assert source.exists()


def test_import_of_a_bad_file_registers_nothing(paths: HearthPaths, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 40)
    with pytest.raises(ModelFileError, match=r"damaged|incomplete"):
        import_model(paths, bad)
    with pytest.raises(ModelFileError, match="could not be found"):
        import_model(paths, tmp_path / "missing.gguf")
    assert not registry_path(paths.data_dir).exists()
    assert added(paths) == []


def test_missing_import_is_shown_with_an_error(paths: HearthPaths, tmp_path: Path) -> None:
    source = build_tiny_model(tmp_path / "gone.gguf")
    import_model(paths, source)
    source.unlink()
    (entry,) = added(paths)
    assert entry.error is not None and "no longer there" in entry.error


def test_split_files_are_one_model(paths: HearthPaths) -> None:
    first = build_tiny_model(paths.models_dir / "big-00001-of-00002.gguf")
    second = build_tiny_model(paths.models_dir / "big-00002-of-00002.gguf", seed=1)
    (entry,) = added(paths)
    assert entry.files == (first, second)
    assert entry.file_size == first.stat().st_size + second.stat().st_size


def test_import_of_an_incomplete_split_model_is_refused(paths: HearthPaths, tmp_path: Path) -> None:
    part = build_tiny_model(tmp_path / "big-00001-of-00003.gguf")
    with pytest.raises(ModelFileError, match="only 1 of them"):
        import_model(paths, part)


def test_metadata_is_cached_by_size_and_mtime(
    paths: HearthPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = build_tiny_model(paths.models_dir / "cached.gguf")
    calls: list[Path] = []
    real = catalog.inspect_gguf

    def counting(path: Path):  # type: ignore[no-untyped-def]
        calls.append(path)
        return real(path)

    monkeypatch.setattr(catalog, "inspect_gguf", counting)
    list_installed(paths)
    list_installed(paths)
    assert len(calls) == 1
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    list_installed(paths)
    assert len(calls) == 2


def test_scan_finds_models_in_known_folders(
    paths: HearthPaths, isolated_home: Path, tmp_path: Path
) -> None:
    # A Hugging Face cache entry: snapshots/<rev>/file is a symlink into blobs/.
    repo = tmp_path / "hf-home" / "hub" / "models--someone--Tiny-GGUF"
    blob = build_tiny_model(repo / "blobs" / "abc123")
    snapshot = repo / "snapshots" / "0123" / "tiny-Q4_K_M.gguf"
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(blob)
    lm_studio = build_tiny_model(
        isolated_home / ".lmstudio" / "models" / "pub" / "repo" / "lm-Q8_0.gguf"
    )
    gpt4all = build_tiny_model(
        isolated_home / ".local" / "share" / "nomic.ai" / "GPT4All" / "g4a.gguf"
    )
    (isolated_home / ".lmstudio" / "models" / "pub" / "repo" / "mmproj-x.gguf").write_text("x")
    found = {e.path: e for e in scan_known_folders(paths)}
    assert set(found) == {snapshot, lm_studio, gpt4all}
    assert found[snapshot].source == "Hugging Face cache"
    assert found[lm_studio].source == "LM Studio"
    assert found[gpt4all].source == "GPT4All"
    # Nothing was copied; importing one makes the next scan leave it out.
    assert list(paths.models_dir.rglob("*.gguf")) == []
    import_model(paths, lm_studio)
    assert lm_studio not in {e.path for e in scan_known_folders(paths)}


def test_scan_honours_hf_hub_cache(
    paths: HearthPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "custom-cache"
    model = build_tiny_model(cache / "models--a--b" / "snapshots" / "1" / "m.gguf")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert [e.path for e in scan_known_folders(paths)] == [model]


def test_find_model_by_name_or_path(paths: HearthPaths, tmp_path: Path) -> None:
    model = build_tiny_model(paths.models_dir / "finder.gguf")
    assert find_model(paths, "finder").path == model
    assert find_model(paths, "FINDER.gguf").path == model
    assert find_model(paths, str(model)).path == model
    with pytest.raises(ModelFileError, match="No installed model"):
        find_model(paths, "nope")


@pytest.mark.parametrize(
    ("label", "count"),
    [
        ("270M", 270_000_000),
        ("7B", 7_000_000_000),
        ("8x7B", 56_000_000_000),
        ("1.5B", 1_500_000_000),
    ],
)
def test_parse_size_label(label: str, count: int) -> None:
    assert parse_size_label(label) == count
    assert parse_size_label("large") is None
