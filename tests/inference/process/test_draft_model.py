"""A draft model with the main model's vocabulary (issue 13): its guesses, verified by the main
model, never change the reply; one with another vocabulary, a missing or a damaged file is
left out with a plain note while the main model loads and prompt lookup still drafts."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from llama_cpp import Llama

from inference.engine_process import EngineProcess
from inference.process import llama_adapter as adapter
from inference.process.draft_model import ModelDrafter
from inference.process.generation import PREEMPTED
from inference.protocol import CompletionRequest, Done, EngineSettings, ModelInfo, Sampling
from tests.support.engine_helpers import GREEDY, collect, load
from tests.support.speculative_runs import PROMPTS, run_reply
from tests.support.tiny_gguf import build_tiny_model

# Greedy without a repeat penalty: the draft guesses by plain argmax, so the main model as its
# own draft is then always right (with the penalty it may not be, and the reply is the same).
ARGMAX = Sampling(temperature=0.0, top_k=1, repeat_penalty=1.0, seed=1)
SETTINGS = {"n_ctx": 512, "n_threads": 1, "n_threads_batch": 1, "flash_attn": True}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("drafts")
    return {
        # Same vocabulary, other weights: a draft that is often wrong.
        "sibling": build_tiny_model(folder / "sibling.gguf", seed=5, n_layer=1, n_embd=32),
        "wider": build_tiny_model(folder / "wider.gguf", extra_vocab=7),
    }


def _load(path: Path) -> Llama:
    return adapter.load_llama(EngineSettings(model_path=str(path), **SETTINGS))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pair(tiny_model: Path, models: dict[str, Path]) -> Iterator[tuple[Llama, Llama, Llama]]:
    main, same, sibling = _load(tiny_model), _load(tiny_model), _load(models["sibling"])
    yield main, same, sibling
    for llm in (main, same, sibling):
        llm.close()


def test_greedy_output_is_identical_with_a_draft_model(
    pair: tuple[Llama, Llama, Llama],
) -> None:
    main, same, sibling = pair
    for prompt, sampling in zip(PROMPTS[:12], (GREEDY, ARGMAX) * 6, strict=True):
        plain = run_reply(main, prompt, "off", max_tokens=24, sampling=sampling)
        for draft in (same, sibling):
            drafted = run_reply(
                main, prompt, "on", max_tokens=24, sampling=sampling,
                drafter=partial(ModelDrafter, draft),
            )  # fmt: skip
            assert drafted.ids == plain.ids, prompt
            assert drafted.text.encode() == plain.text.encode(), prompt
            counts = drafted.drafting.counts
            assert counts.drafted > 0
            if draft is same and sampling is ARGMAX:
                assert counts.accepted == counts.drafted, prompt
            assert drafted.timeline.drafter == "draft model"


def test_sampled_output_still_follows_the_main_model(pair: tuple[Llama, Llama, Llama]) -> None:
    main, _, sibling = pair
    sampling = Sampling(temperature=0.9, top_k=40, top_p=0.95, seed=42)
    for prompt in PROMPTS[:4]:
        plain = run_reply(main, prompt, "off", max_tokens=24, sampling=sampling)
        drafted = run_reply(
            main, prompt, "on", max_tokens=24, sampling=sampling,
            drafter=partial(ModelDrafter, sibling),
        )  # fmt: skip
        assert drafted.ids == plain.ids, prompt


def test_a_draft_cache_another_reply_used_meanwhile_still_gives_the_same_reply(
    pair: tuple[Llama, Llama, Llama],
) -> None:
    """A preempted reply resumes after a chat turn that drafted with the same draft model:
    its drafter catches the draft model's cache up with its own reply again."""
    main, same, _ = pair
    plain = run_reply(main, PROMPTS[0], "off", max_tokens=40, sampling=ARGMAX)
    other = main.tokenize(PROMPTS[5].encode(), add_bos=True, special=True)
    calls = [0]

    def interrupt() -> str | None:
        calls[0] += 1
        if calls[0] % 2:
            return None
        ModelDrafter(same, other).propose(5)  # another reply's drafts in between
        return PREEMPTED

    drafted = run_reply(
        main, PROMPTS[0], "on", max_tokens=40, sampling=ARGMAX, interrupt=interrupt,
        drafter=partial(ModelDrafter, same),
    )  # fmt: skip
    assert drafted.ids == plain.ids
    counts = drafted.drafting.counts
    assert calls[0] >= 4 and counts.accepted == counts.drafted > 0


def _completion(engine: EngineProcess, drafting: str) -> Done:
    request = CompletionRequest(
        engine.next_id(), PROMPTS[0], max_tokens=24, sampling=ARGMAX, ignore_eos=True,
        drafting=drafting,
    )  # fmt: skip
    engine.send(request)
    last = collect(engine, request.id)[-1]
    assert isinstance(last, Done), last
    return last


def test_the_engine_drafts_with_the_draft_model_it_loaded(
    engine: EngineProcess, tiny_model: Path
) -> None:
    info = load(engine, tiny_model, draft_model_path=str(tiny_model), **SETTINGS)
    assert isinstance(info, ModelInfo), info
    assert info.draft_name == tiny_model.name and info.draft_note == ""
    assert info.draft_memory is not None and info.draft_memory.kv_ram > 0
    plain, drafted = _completion(engine, "off"), _completion(engine, "on")
    assert drafted.text == plain.text
    assert drafted.trace is not None and drafted.trace.drafter == "draft model"
    assert drafted.trace.draft_accepted == drafted.trace.drafted > 0


def test_another_vocabulary_is_refused_and_the_main_model_still_works(
    engine: EngineProcess, tiny_model: Path, models: dict[str, Path]
) -> None:
    info = load(engine, tiny_model, draft_model_path=str(models["wider"]), **SETTINGS)
    assert isinstance(info, ModelInfo), info
    assert info.draft_name == "" and info.draft_memory is None
    assert "draft model wider.gguf has a vocabulary of" in info.draft_note
    assert info.draft_note.endswith("a draft model must share the main model's vocabulary.")
    drafted = _completion(engine, "on")
    assert drafted.trace is not None and drafted.trace.drafter == "prompt lookup"
    assert drafted.text == _completion(engine, "off").text


def test_a_missing_or_damaged_draft_file_is_a_plain_note(
    engine: EngineProcess, tiny_model: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(tiny_model.read_bytes()[:3000])
    for path, words in ((tmp_path / "gone.gguf", "could not be found"), (damaged, "incomplete")):
        info = load(engine, tiny_model, draft_model_path=str(path), **SETTINGS)
        assert isinstance(info, ModelInfo), info
        assert info.draft_note.startswith(f"The draft model {path.name} cannot be used: ")
        assert words in info.draft_note
        assert _completion(engine, "on").text
