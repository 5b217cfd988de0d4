"""A draft model (issue 13): a smaller GGUF with the main model's vocabulary, loaded as a second
llama context beside it, whose greedy guesses the main model verifies (speculative.py).

`load_draft_model` checks the vocabulary from both headers before llama.cpp opens the draft
file (inference.gguf.vocabulary), then loads it through llama_adapter like the main model
(raw Llama() crashes on AMX CPUs), with the main model's context size, threads, batch, flash
attention and KV cache types: it must hold every position the main model holds, and it runs
between the main model's decodes on the same cores. It goes wholly on the GPU when the main
model uses the GPU at all (it is small; a draft on the CPU could not keep up), else on the CPU.
Anything wrong with it (missing, damaged, another vocabulary, llama.cpp refusing it) leaves
it out with a plain note; the main model loads all the same and prompt lookup still drafts.

`ModelDrafter` is one reply's drafter over it: per step, its cache is brought in step with
the reply so far (the guesses the main model rejected are taken back out, the kept prefix is
reused, only the new tokens are evaluated) and it decodes greedily up to k tokens ahead. Its
first catch-up reads the whole prompt; it does so in n_batch steps and asks `stop` (the
reply's interrupt, set for each run) between them, so Stop during a long prompt stays prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from llama_cpp import Llama

from inference.gguf import ModelFileError
from inference.gguf.vocabulary import vocabulary_mismatch
from inference.process import llama_adapter as adapter
from inference.process import llama_rows
from inference.process.drafting import PromptLookup
from inference.process.speculative import Drafter
from inference.protocol import EngineSettings, MemoryUse

DRAFT_MODEL = "draft model"  # the drafter's kind, in the trace and the draft switch's key


@dataclass
class DraftModel:
    llm: Llama
    path: str
    name: str
    memory: MemoryUse

    def close(self) -> None:
        self.llm.close()


def load_draft_model(settings: EngineSettings, n_ctx: int) -> tuple[DraftModel | None, str]:
    """The draft model `settings` name beside the main model (loaded with `n_ctx`), or None
    and the reason it was left out ("" when none was asked for)."""
    path = settings.draft_model_path
    if not path:
        return None, ""
    name = Path(path).name
    try:
        mismatch = vocabulary_mismatch(Path(settings.model_path), Path(path))
    except ModelFileError as exc:
        return None, f"The draft model {name} cannot be used: {exc}"
    if mismatch:
        return None, f"The draft model was not loaded: {mismatch}."
    layers = -1 if settings.n_gpu_layers != 0 else 0
    draft_settings = replace(
        settings, model_path=path, n_ctx=n_ctx, n_gpu_layers=layers, draft_model_path=""
    )
    try:
        llm, report = adapter.load_llama_measured(draft_settings)
    except (ValueError, RuntimeError, OSError) as exc:
        return None, f"llama.cpp could not load the draft model {name}: {exc}."
    return DraftModel(llm, path, name, report.memory), ""


class ModelDrafter:
    """Drafts for one reply from a draft model (see the module doc). Several replies may
    share the model (a preempted one resumes later): each step catches the cache up with
    its own reply, whatever another left there."""

    kind = DRAFT_MODEL

    def __init__(self, llm: Llama, prompt: Sequence[int]) -> None:
        self.llm = llm
        self._prompt = list(prompt)
        self._tokens = list(prompt)
        # speculative.Interruptible: True stops a catch-up between two batches.
        self.stop: Callable[[], bool] | None = None

    def sync(self, tokens: Sequence[int], offset: int) -> None:
        """The reply so far (`tokens`, the ids after the first `offset` prompt tokens)."""
        self._tokens = [*self._prompt[:offset], *tokens]

    def propose(self, k: int) -> list[int]:
        llm, tokens = self.llm, self._tokens
        # Every guess but the last is evaluated: k - 1 rows after the reply must fit.
        k = min(k, llama_rows.free_rows_after(llm, len(tokens)) + 1)
        if k <= 0 or not tokens:
            return []
        if not llama_rows.catch_up(llm, tokens, self.stop):
            return []  # stopped: the caller's interrupt ends or pauses the reply next
        out: list[int] = []
        while True:
            token = llama_rows.greedy_token(llm)
            out.append(token)
            if len(out) >= k or adapter.is_end_of_generation(llm, token):
                return out
            llm.eval([token])


def drafter_for(draft: DraftModel | None) -> tuple[str, Callable[[Sequence[int]], Drafter]]:
    """What a loaded model drafts with, as the draft switch tells drafters apart (prompt
    lookup, or this draft model's file: each pays or not on its own), and what makes one from
    a prompt: its draft model when one is loaded, else prompt lookup."""
    if draft is None:
        return PromptLookup.kind, PromptLookup
    return f"{DRAFT_MODEL} {draft.path}", partial(ModelDrafter, draft.llm)
