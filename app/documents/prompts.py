"""The three prompts of a summary: map (one chunk), reduce (a group of partial summaries) and
final. Partial summaries carry tags like [c3] naming the chunks they came from, so the final
summary can cite its sources."""

from __future__ import annotations

from collections.abc import Sequence

from app.documents.options import SummaryOptions, language_name
from inference.protocol import ChatMessage

# Bump when prompts change: stored summaries made with other prompts are then not reused.
PROMPT_VERSION = 1

_STYLE = {
    "bullets": "Write a bulleted list: one point per line, each line starting with '- '.",
    "paragraph": "Write flowing paragraphs of prose, no lists.",
    "executive": (
        "Write an executive summary: one line stating the bottom line, then the key findings "
        "and their implications as a bulleted list ('- ')."
    ),
    "key_points": (
        "Write a section 'Key points' as a bulleted list ('- '), then a section "
        "'Action items' as a bulleted list of concrete next steps the text calls for "
        "('None' if it calls for none)."
    ),
}


def chunk_tag(index: int) -> str:
    return f"[c{index}]"


def source_label(chunk_ids: Sequence[int]) -> str:
    """Tags for a partial summary's chunks; consecutive runs as one range tag ([c3-c9]) so a
    summary of 500 chunks does not carry 500 tags into every prompt."""
    tags: list[str] = []
    run_start = previous = None
    for chunk_id in [*chunk_ids, None]:
        if previous is not None and chunk_id == previous + 1:
            previous = chunk_id
            continue
        if run_start is not None and previous is not None:
            tags.append(
                chunk_tag(run_start) if run_start == previous else f"[c{run_start}-c{previous}]"
            )
        run_start = previous = chunk_id
    return "".join(tags)


def _system(options: SummaryOptions) -> ChatMessage:
    return ChatMessage(
        "system",
        "You summarize documents faithfully: only what the text says, no outside knowledge, "
        f"no opinions. Always write in {language_name(options.language)}.",
    )


def map_messages(title: str, text: str, words: int, options: SummaryOptions) -> list[ChatMessage]:
    return [
        _system(options),
        ChatMessage(
            "user",
            f'Summarize this part of the document "{title}" in at most {words} words. Keep '
            "names, numbers, dates, decisions and conclusions.\n\n"
            f"<text>\n{text}\n</text>",
        ),
    ]


def blocks(partials: Sequence[tuple[Sequence[int], str]]) -> str:
    """Partial summaries, each under a header naming its chunks."""
    return "\n\n".join(f"Source {source_label(ids)}:\n{text}" for ids, text in partials)


def reduce_messages(
    title: str, partials_text: str, words: int, options: SummaryOptions
) -> list[ChatMessage]:
    return [
        _system(options),
        ChatMessage(
            "user",
            f'Below are summaries of consecutive parts of the document "{title}", each under '
            "its source tags. Merge them into one summary of at most "
            f"{words} words, in order. End every sentence with the tags of the sources it "
            "relies on, for example [c3] or [c3][c4].\n\n"
            f"{partials_text}",
        ),
    ]


def final_messages(
    title: str, source_text: str, options: SummaryOptions, *, whole_document: bool
) -> list[ChatMessage]:
    what = (
        "the document below"
        if whole_document
        else "the document from the partial summaries below (they cover it all, in order)"
    )
    return [
        _system(options),
        ChatMessage(
            "user",
            f'Summarize {what}: "{title}". About {options.target_words} words. '
            f"{_STYLE[options.style]} End every point with the tags of the sources it relies "
            f"on, for example [c3] or [c3][c4]. Write in {language_name(options.language)}."
            f"\n\n{source_text}",
        ),
    ]
