"""The kinds of work a request names (issue 13; GenerateRequest.work and .drafting), defined
once here and re-exported by inference/protocol.py."""

from __future__ import annotations

from enum import StrEnum


class Work(StrEnum):
    """The kinds of work callers name in a request's `work` (issue 13): drafting's speeds are
    measured and kept per model and kind, since copy-heavy work (summaries quoting their
    document, translations carrying names and numbers, regenerations) drafts well where a chat
    may not. The trace shows the name. BACKGROUND and COMPLETION are what the engine calls
    unnamed background chats and raw completions."""

    CHAT = "chat"
    REGENERATE = "regenerate"
    SUMMARY = "summary"
    TRANSLATION = "translation"
    TITLE = "title"
    BACKGROUND = "background"
    COMPLETION = "completion"


# A request's `drafting`: "auto" drafts where it was measured to pay, "on"/"off" force it.
DRAFTING_MODES = ("auto", "on", "off")


def check_work_and_drafting(work: str, drafting: str) -> None:
    """Refuse, plainly and on the caller's side, a kind of work or drafting mode the engine
    does not know ("" work: the request's own kind)."""
    if work and work not in Work.__members__.values():
        names = ", ".join(w.value for w in Work)
        raise ValueError(f"Unknown kind of work {work!r}: it is one of {names}.")
    if drafting not in DRAFTING_MODES:
        raise ValueError(f"Unknown drafting mode {drafting!r}: it is auto, on or off.")
