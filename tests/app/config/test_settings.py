"""The kept-states budget setting (issue 13): 4 GiB unless the user chose otherwise, and a
settings file with an absurd budget is read without failing, the budget clamped."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from app.config.settings import Settings, load_settings, save_settings
from inference.protocol import KeptStates

GIB = 1 << 30


def _from_file(tmp_path: Path, budget: object) -> KeptStates:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"n_ctx": 2048, "kv_states_budget_bytes": budget}))
    settings = load_settings(path)
    assert settings.n_ctx == 2048  # the rest of the file still applies
    return settings.kept_states(tmp_path / "kv_states")


def test_the_engine_is_told_the_folder_and_4_gib_by_default(tmp_path: Path) -> None:
    folder = tmp_path / "kv_states"
    assert Settings().kept_states(folder) == KeptStates(str(folder), 4 * GIB)


def test_a_chosen_budget_is_saved_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(path, Settings(kv_states_budget_bytes=GIB // 2))
    assert load_settings(path).kept_states(tmp_path).budget_bytes == GIB // 2


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (-5, 0),  # negative: keep nothing
        ("lots", 4 * GIB),  # not a number: the default
        (True, 4 * GIB),
        (None, 4 * GIB),
        (2.5e9, 4 * GIB),  # not a whole number of bytes: not this setting's type
    ],
)
def test_an_absurd_budget_in_the_file_is_clamped_not_fatal(
    tmp_path: Path, budget: object, expected: int
) -> None:
    assert _from_file(tmp_path, budget).budget_bytes == expected


def test_a_budget_larger_than_the_disk_is_the_disk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        kept = _from_file(tmp_path, 10**30)
    assert kept.budget_bytes == shutil.disk_usage(tmp_path).total
    assert "exceeds the disk" in caplog.text
