"""Choosing a draft model on the Models page (issue 13): which local models are offered, and why
a chosen one cannot draft for the selected model. What it adds to the memory estimate is
counted in the verdict by app.models.fit (`draft`). The engine checks the same again at load
(inference/process/draft_model.py): a path set by hand in model_settings.json never reaches
llama.cpp unchecked. No Qt."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.models.catalog import ModelEntry
from inference.gguf import ModelFileError
from inference.gguf.vocabulary import vocabulary_mismatch


def draft_choices(entries: Iterable[ModelEntry], model_path: str) -> tuple[tuple[str, str], ...]:
    """(path, label) of the installed models that may draft for `model_path`: usable files
    on disk other than itself (its vocabulary is checked when one is chosen)."""
    return tuple(
        (str(e.path), e.display_name)
        for e in entries
        if e.usable and not e.packaged and str(e.path) != model_path
    )


def draft_problem(model_path: str | Path, draft_path: str | Path) -> str:
    """Why the model at `draft_path` cannot draft for the one at `model_path`, in a sentence;
    "" when it can. Reads both headers (the token lists are hashed): off the GUI thread."""
    try:
        mismatch = vocabulary_mismatch(Path(model_path), Path(draft_path))
    except ModelFileError as exc:
        return f"The draft model {Path(draft_path).name} cannot be used: {exc}"
    return f"{mismatch[:1].upper()}{mismatch[1:]}." if mismatch else ""
