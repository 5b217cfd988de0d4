"""`hearth chat --drafting auto|on|off` (issue 13): the request's drafting mode reaches the
engine, and --json shows what drafting did, as the reply's trace does, and the work's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import GuiParts, main
from app.config.paths import resolve_paths
from tests.support.speculative_runs import PROMPTS


class _NoGui:
    def __call__(self, *args: object) -> int:
        raise AssertionError("the chat command never opens the window")


def _chat(model: Path, capsys: pytest.CaptureFixture[str], *options: str) -> dict:
    argv = ["chat", PROMPTS[0], "--model", str(model), "--max-tokens", "32", "--seed", "1"]
    argv += ["--temperature", "0", "--json", *options]
    gui = GuiParts(open_window=_NoGui(), export_chats=_NoGui())  # type: ignore[arg-type]
    assert main(argv, gui=gui) == 0
    return dict(json.loads(capsys.readouterr().out.splitlines()[-1]))


def test_drafting_on_and_off_reach_the_engine_and_the_json_shows_them(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    off = _chat(tiny_model, capsys, "--drafting", "off")
    on = _chat(tiny_model, capsys, "--drafting", "on")
    assert off["timeline"]["drafting"]["mode"] == "forced off"
    assert off["timeline"]["drafting"]["drafted"] == 0
    drafting = on["timeline"]["drafting"]
    assert drafting["mode"] == "forced on"
    assert drafting["work"] == "chat"
    assert drafting["drafted"] > 0 and 0 <= drafting["accepted"] <= drafting["drafted"]
    assert on["text"] == off["text"]  # greedy: drafting never changes the reply


def test_auto_is_the_default_and_decides_by_itself(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = _chat(tiny_model, capsys)
    mode = reply["timeline"]["drafting"]["mode"]
    assert mode not in ("forced on", "forced off") and mode  # the engine says why
    # What it measured is kept for the next command (inference/process/draft_memory.py).
    assert resolve_paths().draft_speeds_file.is_file()


def test_an_unknown_mode_is_refused_by_the_parser(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gui = GuiParts(open_window=_NoGui(), export_chats=_NoGui())  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as exit_:
        main(["chat", "hi", "--model", str(tiny_model), "--drafting", "always"], gui=gui)
    assert exit_.value.code == 2
    assert "--drafting" in capsys.readouterr().err
