"""`hearth chat --draft-model PATH` (issue 13): a draft model with the model's vocabulary drafts
for it (--json names the drafter) without changing the reply; one with another vocabulary is
refused with the plain reason on stderr, and the reply still comes, prompt lookup drafting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import GuiParts, main
from tests.support.speculative_runs import PROMPTS
from tests.support.tiny_gguf import build_tiny_model


class _NoGui:
    def __call__(self, *args: object) -> int:
        raise AssertionError("the chat command never opens the window")


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli_drafts")
    return {
        "sibling": build_tiny_model(folder / "sibling.gguf", seed=5, n_layer=1, n_embd=32),
        "wider": build_tiny_model(folder / "wider.gguf", extra_vocab=7),
    }


def _chat(model: Path, *options: str, json_out: bool = True) -> int:
    argv = ["chat", PROMPTS[0], "--model", str(model), "--max-tokens", "24", "--seed", "1"]
    argv += ["--temperature", "0", *options] + (["--json"] if json_out else [])
    gui = GuiParts(open_window=_NoGui(), export_chats=_NoGui())  # type: ignore[arg-type]
    return main(argv, gui=gui)


def _json(capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    captured = capsys.readouterr()
    return dict(json.loads(captured.out.splitlines()[-1])), captured.err


def test_a_draft_model_drafts_and_the_json_names_it(
    tiny_model: Path, drafts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(tiny_model, "--drafting", "off") == 0
    plain, _ = _json(capsys)
    sibling = drafts["sibling"]
    assert _chat(tiny_model, "--draft-model", str(sibling), "--drafting", "on") == 0
    drafted, err = _json(capsys)
    assert drafted["draft_model"] == {"path": str(sibling), "loaded": True, "note": ""}
    assert drafted["drafter"] == "draft model"
    assert drafted["timeline"]["drafting"]["drafted"] > 0
    assert drafted["text"] == plain["text"]  # greedy: the draft never changes the reply
    assert "draft model" not in err


def test_another_vocabulary_is_refused_plainly_and_the_reply_still_comes(
    tiny_model: Path, drafts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    wider = drafts["wider"]
    assert _chat(tiny_model, "--draft-model", str(wider), "--drafting", "on") == 0
    reply, err = _json(capsys)
    assert err.startswith("The draft model was not loaded: draft model wider.gguf has a vocabulary")
    assert reply["draft_model"]["loaded"] is False
    assert reply["draft_model"]["note"] == err.strip()
    assert reply["drafter"] == "prompt lookup" and reply["text"]

    assert _chat(tiny_model, "--draft-model", str(wider), json_out=False) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() and "has a vocabulary of" in captured.err
