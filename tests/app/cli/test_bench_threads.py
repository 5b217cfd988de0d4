"""`hearth bench --find-threads` (issue 13): a real search on a tiny model, and keeping the
winners: --keep, the question on a terminal, and never a winner within the spread."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from app.cli import bench_threads
from app.cli.bench import add_parser, run
from app.config.paths import resolve_paths
from app.models import bench_threads as search_module
from app.models.bench_threads import ThreadsFound, ThreadTrial, pick
from app.models.settings import ModelSettings, ModelSettingsStore
from inference.process.cpu_threads import physical_cores, usable_cpus


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hearth")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["bench", *argv])


def _stored(model: Path) -> ModelSettings:
    return ModelSettingsStore(resolve_paths().data_dir).get(model)


def test_a_real_search_tries_every_count_for_both_phases(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tiny_model), "--find-threads", "-p", "16", "-n", "4", "-r", "2", "--json"]
    assert run(parse(argv)) == 0
    payload = json.loads(capsys.readouterr().out)
    counts = [t["threads"] for t in payload["trials"]]
    assert counts == list(search_module.thread_candidates(physical_cores(), usable_cpus()))
    for trial in payload["trials"]:
        assert trial["error"] is None
        assert len(trial["pp_tps"]) == 2 and len(trial["tg_tps"]) == 2
    # HEARTH_THREADS=1 in the tests: the current setting is one thread for both phases.
    assert payload["current"] == {"threads": 1, "batch_threads": 1}
    assert payload["decode"]["current"] == 1 and payload["prefill"]["current"] == 1
    assert payload["kept"] is False  # neither --keep nor a terminal to ask on
    assert _stored(tiny_model) == ModelSettings()


def _found(clear: bool) -> ThreadsFound:
    spread, lead = ((0.1, 0.2, 0.1), 100) if clear else ((5.0, 30.0, 1.0), 4)
    trials = (
        ThreadTrial(1, tuple(100 + d for d in spread), tuple(10 + d for d in spread)),
        ThreadTrial(2, tuple(100 + lead + d for d in spread), tuple(14 + d for d in spread)),
    )
    return ThreadsFound(trials, pick("decode", trials, 1), pick("prefill", trials, 1))


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> list[ThreadsFound]:
    """find_threads answering with the next of a list (the verdicts, not the machine, are
    under test here)."""
    answers: list[ThreadsFound] = []
    monkeypatch.setattr(search_module, "find_threads", lambda *a, **k: answers.pop(0))
    return answers


def test_keep_saves_the_clear_winners_as_the_models_settings(
    tiny_model: Path, scripted: list[ThreadsFound], capsys: pytest.CaptureFixture[str]
) -> None:
    ModelSettingsStore(resolve_paths().data_dir).put(tiny_model, ModelSettings(n_ctx=1024))
    scripted.append(_found(clear=True))
    assert run(parse([str(tiny_model), "--find-threads", "--keep"])) == 0
    out = capsys.readouterr().out
    assert "| 2 | 200.1 ± 0.1 * | 14.1 ± 0.1 * |" in out
    assert "Kept threads=2, batch threads=2 for this model." in out
    assert _stored(tiny_model) == ModelSettings(n_ctx=1024, n_threads=2, n_threads_batch=2)


@pytest.mark.parametrize(("answer", "kept"), [("y", True), ("", False)])
def test_on_a_terminal_it_asks_first(
    tiny_model: Path,
    scripted: list[ThreadsFound],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    kept: bool,
) -> None:
    scripted.append(_found(clear=True))
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", terminal)
    asked: list[str] = []
    args = parse([str(tiny_model), "--find-threads"])
    args.n_prompt, args.n_gen, args.repetitions = 16, 4, 2
    assert bench_threads.run(args, tiny_model, ask=lambda q: asked.append(q) or answer) == 0
    assert asked == ["Keep threads=2, batch threads=2 for this model? [y/N] "]
    assert (_stored(tiny_model).n_threads == 2) is kept
    if not kept:
        assert "run with --keep" in capsys.readouterr().out


def test_a_lead_within_the_spread_is_never_kept(
    tiny_model: Path, scripted: list[ThreadsFound], capsys: pytest.CaptureFixture[str]
) -> None:
    scripted.append(_found(clear=False))
    assert run(parse([str(tiny_model), "--find-threads", "--keep"])) == 0
    out = capsys.readouterr().out
    assert "decode: no clear winner, keeping the current setting threads=1" in out
    assert out.rstrip().endswith("No clear winner, keeping the current setting.")
    assert _stored(tiny_model) == ModelSettings()


def test_keep_without_find_threads_is_refused(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parse([str(tiny_model), "--keep"])) == 2
    assert "--keep goes with --find-threads" in capsys.readouterr().err
