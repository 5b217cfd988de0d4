"""A draft model's long work stays stoppable and its memory goes with the main model's
(issue 13): its first catch-up with a long prompt reads in n_batch steps with Stop asked
between them (counted in tokens read, not time), and unloading or switching the main model
closes the draft's llama context."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from multiprocessing import Pipe
from pathlib import Path
from typing import Any

import pytest
from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process import model_load
from inference.process.draft_model import DraftModel, ModelDrafter
from inference.process.generation import CANCELLED, PREEMPTED
from inference.process.worker import Worker
from inference.protocol import (
    EngineSettings,
    Error,
    Loaded,
    LoadRequest,
    Sampling,
    ShutdownRequest,
    Unloaded,
    UnloadRequest,
)
from tests.support.speculative_runs import SOURCE, run_reply

ARGMAX = Sampling(temperature=0.0, top_k=1, repeat_penalty=1.0, seed=1)
DRAFT_BATCH = 32
SETTINGS: dict[str, Any] = {"n_ctx": 1024, "n_threads": 1, "n_threads_batch": 1, "flash_attn": True}


@pytest.fixture(scope="module")
def pair(tiny_model: Path) -> Iterator[tuple[Llama, Llama]]:
    main = adapter.load_llama(EngineSettings(model_path=str(tiny_model), **SETTINGS))
    draft = adapter.load_llama(
        EngineSettings(model_path=str(tiny_model), n_batch=DRAFT_BATCH, **SETTINGS)
    )
    yield main, draft
    main.close()
    draft.close()


def _long_prompt(llm: Llama) -> list[int]:
    tokens = llm.tokenize(f"Repeat: {SOURCE}. ".encode() * 40, add_bos=True, special=True)
    return tokens[:700]


def test_cancel_during_the_draft_models_first_catch_up_ends_after_one_batch(
    pair: tuple[Llama, Llama],
) -> None:
    main, draft = pair
    prompt = _long_prompt(main)
    assert len(prompt) > 10 * DRAFT_BATCH
    draft.reset()

    def interrupt() -> str | None:  # Stop pressed once the draft model starts reading
        return CANCELLED if draft.n_tokens > 0 else None

    reply = run_reply(
        main, prompt, "on", max_tokens=32, sampling=ARGMAX, interrupt=interrupt,
        drafter=partial(ModelDrafter, draft),
    )  # fmt: skip
    assert reply.stop_reason == "cancelled"
    # One batch of the prompt read, not all of it; the main model made one more token.
    assert draft.n_tokens == DRAFT_BATCH
    assert len(reply.ids) <= 2 and reply.drafting.counts.drafted == 0


def test_a_reply_paused_during_the_catch_up_resumes_it_and_gives_the_same_reply(
    pair: tuple[Llama, Llama],
) -> None:
    main, draft = pair
    prompt = _long_prompt(main)
    plain = run_reply(main, prompt, "off", max_tokens=24, sampling=ARGMAX)
    draft.reset()
    read: list[int] = []

    def interrupt() -> str | None:  # a chat turn arrives after each batch the draft reads
        if 0 < draft.n_tokens < len(prompt) and draft.n_tokens not in read:
            read.append(draft.n_tokens)
            return PREEMPTED
        return None

    reply = run_reply(
        main, prompt, "on", max_tokens=24, sampling=ARGMAX, interrupt=interrupt,
        drafter=partial(ModelDrafter, draft),
    )  # fmt: skip
    assert reply.ids == plain.ids
    # Each pause came after one more batch: every run went on from where the last stopped.
    assert read[: len(prompt) // DRAFT_BATCH] == [
        DRAFT_BATCH * i for i in range(1, len(prompt) // DRAFT_BATCH + 1)
    ]
    assert reply.drafting.counts.drafted > 0


def _closed(draft: DraftModel) -> bool:
    """llama-cpp-python frees the native context and model on close and forgets them."""
    return draft.llm._ctx.ctx is None and draft.llm._model.model is None


def test_unloading_or_switching_the_main_model_closes_the_draft(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts: list[DraftModel] = []
    real = model_load.load_draft_model

    def recording(settings: EngineSettings, n_ctx: int) -> tuple[DraftModel | None, str]:
        draft, note = real(settings, n_ctx)
        assert draft is not None, note
        drafts.append(draft)
        return draft, note

    monkeypatch.setattr(model_load, "load_draft_model", recording)
    ours, theirs = Pipe()
    worker = Worker(theirs)
    thread = threading.Thread(target=worker.serve, name="test-engine-worker")
    thread.start()
    settings = EngineSettings(
        model_path=str(tiny_model), draft_model_path=str(tiny_model), **SETTINGS
    )

    def ask(request: Any, answer: type) -> None:
        ours.send(request)
        while True:
            assert ours.poll(60), f"no answer to {request}"
            event = ours.recv()
            assert not isinstance(event, Error), event
            if isinstance(event, answer) and event.id == request.id:
                return

    try:
        ask(LoadRequest(1, settings), Loaded)
        assert len(drafts) == 1 and not _closed(drafts[0])
        ask(LoadRequest(2, settings), Loaded)  # a model switch: the old draft goes too
        assert len(drafts) == 2 and _closed(drafts[0]) and not _closed(drafts[1])
        ask(UnloadRequest(3), Unloaded)
        assert _closed(drafts[1])
    finally:
        ours.send(ShutdownRequest(4))
        thread.join(60)
        ours.close()
        theirs.close()
    assert not thread.is_alive()
