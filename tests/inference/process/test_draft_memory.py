"""Drafting's measurements kept on disk (issue 13): a restarted engine starts with the last
one's verdict per model and kind of work; a damaged, foreign or stale file is ignored."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.process.draft_memory import FORMAT, DraftMemory, model_key
from inference.process.draft_switch import MARGIN, DraftSwitchboard
from inference.process.speculative import ModeTimes
from inference.protocol import (
    CompletionRequest,
    Done,
    EngineSettings,
    KeptStates,
    Loaded,
    LoadRequest,
)
from tests.support.engine_helpers import GREEDY, collect
from tests.support.speculative_runs import PROMPTS

# Automatic drafting as users get it (the suite turns it off by default: tests/conftest.py).
pytestmark = pytest.mark.usefixtures("auto_drafting")


def _engine(model: Path, speeds: Path) -> EngineProcess:
    process = EngineProcess()
    process.start()
    # Flash attention: auto drafts only with it (llama_rows.flash_attention_on).
    settings = EngineSettings(
        model_path=str(model), n_ctx=1024, n_threads=1, n_threads_batch=1, flash_attn=True
    )
    request = LoadRequest(process.next_id(), settings, KeptStates(draft_speeds=str(speeds)))
    process.send(request)
    assert isinstance(collect(process, request.id)[-1], Loaded)
    return process


def _reply(engine: EngineProcess, work: str) -> str:
    """One auto-drafted reply of `work`; what its trace says about drafting."""
    request = CompletionRequest(
        engine.next_id(), PROMPTS[0], max_tokens=48, sampling=GREEDY, ignore_eos=True, work=work
    )
    engine.send(request)
    done = collect(engine, request.id)[-1]
    assert isinstance(done, Done) and done.trace is not None, done
    return done.trace.drafting


def test_the_next_engine_process_starts_with_the_first_ones_verdict(
    tiny_model: Path, tmp_path: Path
) -> None:
    speeds = tmp_path / "draft_speeds.json"
    first = _engine(tiny_model, speeds)
    try:
        measured = [_reply(first, "summary") for _ in range(2)]
    finally:
        first.stop()
    assert measured == ["measuring without drafting", "measuring with drafting"]
    kept = json.loads(speeds.read_text(encoding="utf-8"))
    works = kept["models"][model_key(str(tiny_model), 0)]
    summary = works["summary"]
    plain = summary["plain_tokens"] / summary["plain_s"]
    drafting = summary["drafting_tokens"] / summary["drafting_s"]
    verdict = "pays" if drafting >= plain * MARGIN else "does not pay"

    second = _engine(tiny_model, speeds)
    try:
        assert _reply(second, "summary") == verdict  # not measured again
        assert _reply(second, "chat") == "measuring without drafting"  # its own kind
    finally:
        second.stop()


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"format": 99, "models": {}}', b'{"format": 1}'],
)
def test_a_damaged_or_foreign_file_is_ignored_with_a_log_line(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "draft_speeds.json"
    file.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="inference.process.draft_memory"):
        assert DraftMemory(file).read() == {}
    assert "Drafting speeds" in caplog.text


def test_a_damaged_engine_file_is_measured_afresh_and_replaced(
    tiny_model: Path, tmp_path: Path
) -> None:
    speeds = tmp_path / "draft_speeds.json"
    speeds.write_bytes(b"\x00garbage")
    engine = _engine(tiny_model, speeds)
    try:
        assert _reply(engine, "summary") == "measuring without drafting"
    finally:
        engine.stop()
    assert json.loads(speeds.read_text(encoding="utf-8"))["format"] == FORMAT


def _board_with_a_verdict(model: Path, speeds: Path) -> DraftSwitchboard:
    board = DraftSwitchboard()
    switch = board.loaded(str(model), 0, str(speeds))
    switch.record("summary", ModeTimes(plain_tokens=100, plain_s=10.0))
    switch.record("summary", ModeTimes(drafting_tokens=100, drafting_s=5.0))
    board.save()
    return board


def test_a_model_file_replaced_under_the_same_name_is_measured_afresh(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF one")
    speeds = tmp_path / "draft_speeds.json"
    _board_with_a_verdict(model, speeds)
    assert DraftSwitchboard().loaded(str(model), 0, str(speeds)).plan("summary").reason == "pays"
    model.write_bytes(b"GGUF two, longer")
    os.utime(model, ns=(1, 1))
    again = DraftSwitchboard().loaded(str(model), 0, str(speeds))
    assert again.plan("summary").reason == "measuring without drafting"
    assert DraftSwitchboard().loaded(str(model), 99, str(speeds)).speeds("summary") == (0, 0)


def test_nonsense_entries_are_skipped_and_other_models_are_kept(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    speeds = tmp_path / "draft_speeds.json"
    key = model_key(str(model), 0)
    good = {"plain_tokens": 100, "plain_s": 10, "drafting_tokens": 100, "drafting_s": 5}
    good |= {"replies": 2, "probe_gap": 2, "next_probe": 0}
    entries = {
        "summary": good,
        "chat": {**good, "plain_s": float("nan")},
        "title": {**good, "drafting_s": -1},
        "translation": "fast",
    }
    other = {"other.gguf|1|1|gpu=0": {"chat": good}}
    speeds.write_text(json.dumps({"format": FORMAT, "models": {key: entries, **other}}))
    board = DraftSwitchboard()
    switch = board.loaded(str(model), 0, str(speeds))
    assert switch.plan("summary").reason == "pays"
    assert [switch.speeds(w) for w in ("chat", "title", "translation")] == [(0.0, 0.0)] * 3
    switch.record("chat", ModeTimes(plain_tokens=10, plain_s=1.0))
    board.save()
    kept = json.loads(speeds.read_text())["models"]
    assert set(kept) == {key, *other}
    assert kept["other.gguf|1|1|gpu=0"] == other["other.gguf|1|1|gpu=0"]
    assert set(kept[key]) == {"summary", "chat"}


def test_no_file_named_keeps_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    model = folder / "model.gguf"
    model.write_bytes(b"GGUF")
    board = DraftSwitchboard()
    board.loaded(str(model), 0, "").record("chat", ModeTimes(plain_tokens=10, plain_s=1.0))
    board.save()
    assert list(folder.iterdir()) == [model]


def test_an_unwritable_folder_is_logged_and_the_reply_is_unaffected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger="inference.process.draft_memory"):
        _board_with_a_verdict(model, blocked / "draft_speeds.json")
    assert "could not be written" in caplog.text


def test_a_draft_models_verdict_is_kept_apart_from_prompt_lookups(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    speeds = tmp_path / "draft_speeds.json"
    board = DraftSwitchboard()
    board.loaded(str(model), 0, str(speeds))
    by_draft = board.for_model(str(model), 0, "draft model /m/small.gguf")
    by_draft.record("chat", ModeTimes(plain_tokens=100, plain_s=10.0))
    by_draft.record("chat", ModeTimes(drafting_tokens=100, drafting_s=5.0))
    board.save()
    later = DraftSwitchboard()
    lookup = later.loaded(str(model), 0, str(speeds))
    assert lookup.plan("chat").reason == "measuring without drafting"
    again = later.for_model(str(model), 0, "draft model /m/small.gguf")
    assert again.plan("chat").reason == "pays"
    assert later.for_model(str(model), 0, "draft model /m/other.gguf").speeds("chat") == (0, 0)
