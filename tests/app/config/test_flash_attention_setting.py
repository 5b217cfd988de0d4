"""Flash attention's global setting (issue 13): auto by default, and settings files written
when it was a bool read sensibly: false was the old default, saved for everyone, so it reads
as the new default; true was a choice and stays on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config.settings import Settings, load_settings, save_settings


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(False, "auto"), (True, "on"), ("off", "off"), ("on", "on"), ("auto", "auto"), (7, "auto")],
)
def test_old_and_new_values_in_the_file(tmp_path: Path, stored: object, expected: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"flash_attn": stored, "n_ctx": 2048}))
    settings = load_settings(path)
    assert settings.flash_attn == expected and settings.n_ctx == 2048
    assert settings.engine_settings("/m.gguf").flash_attn == expected


def test_the_default_is_auto_and_a_choice_round_trips(tmp_path: Path) -> None:
    assert Settings().flash_attn == "auto"
    path = tmp_path / "settings.json"
    save_settings(path, Settings(flash_attn="off"))
    assert load_settings(path).flash_attn == "off"
