"""The recommended models list (issue 15): the shipped data file is valid, and the loader
skips a damaged entry (or a damaged file) with a logged reason instead of failing."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest

from app.models.filenames import quantization_from_name
from app.models.recommended import DEFAULT_LIST, load_recommended

ROOT = Path(__file__).resolve().parents[3]


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "Tiny Instruct",
        "repo_id": "someone/Tiny-GGUF",
        "filename": "tiny-Q4_K_M.gguf",
        "size_bytes": 1000,
        "parameters": "1M",
        "licence": "Apache-2.0",
        "licence_url": "https://www.apache.org/licenses/LICENSE-2.0",
        "context_length": 2048,
        "description": "A test model.",
    }
    entry.update(changes)
    return entry


def _write(path: Path, models: list[object]) -> Path:
    path.write_text(json.dumps({"version": 1, "models": models}), encoding="utf-8")
    return path


def test_the_shipped_list_is_valid_small_to_large_and_names_q4_k_m_files() -> None:
    loaded = load_recommended()
    assert loaded.skipped == ()
    assert len(loaded.models) >= 5
    sizes = [m.size_bytes for m in loaded.models]
    assert sizes == sorted(sizes)
    assert len({m.key for m in loaded.models}) == len(loaded.models)
    for model in loaded.models:
        assert quantization_from_name(model.filename) == "Q4_K_M", model.filename
        assert model.licence_url.startswith("https://")


def test_the_list_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    relative = DEFAULT_LIST.relative_to(ROOT / "app").as_posix()
    assert relative in patterns


def test_a_damaged_entry_is_skipped_with_its_reason_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(
        tmp_path / "list.json",
        [
            _entry(),
            _entry(name="No size", filename="b-Q4_K_M.gguf", size_bytes="big"),
            _entry(name="Escapes", filename="../../etc/passwd.gguf"),
            _entry(name="Not GGUF", filename="model.safetensors"),
            _entry(name="Bad repo", repo_id="no-slash", filename="c.gguf"),
            _entry(name="Plain link", filename="d.gguf", licence_url="http://example.com"),
            "not an object",
            _entry(name="Twice"),  # same repository and file as the first
            _entry(name="Bigger", filename="tiny-Q8_0.gguf", size_bytes=2000),
        ],
    )
    with caplog.at_level(logging.WARNING, logger="app.models.recommended"):
        loaded = load_recommended(path)
    assert [m.name for m in loaded.models] == ["Tiny Instruct", "Bigger"]
    assert len(loaded.skipped) == 7
    assert "entry 2 (No size) skipped: 'size_bytes'" in loaded.skipped[0]
    assert "not a path inside the repository" in loaded.skipped[1]
    assert "not a .gguf file" in loaded.skipped[2]
    assert "owner/name" in loaded.skipped[3]
    assert "https" in loaded.skipped[4]
    assert "entry 7 skipped: it is not an object" in loaded.skipped[5]
    assert "listed twice" in loaded.skipped[6]
    logged = [r.getMessage() for r in caplog.records]
    assert logged == list(loaded.skipped)


@pytest.mark.parametrize("text", ["{not json", '{"models": {}}', "[]"])
def test_a_damaged_file_gives_an_empty_list(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.json"
    path.write_text(text, encoding="utf-8")
    loaded = load_recommended(path)
    assert loaded.models == ()
    assert len(loaded.skipped) == 1


def test_a_missing_file_gives_an_empty_list(tmp_path: Path) -> None:
    loaded = load_recommended(tmp_path / "missing.json")
    assert loaded.models == ()
    assert "cannot be read" in loaded.skipped[0]
