"""The three prompts of a summary: map (one chunk), reduce (a group of partial summaries) and
final, each in two forms: chat messages for instruction-tuned models, and a text to continue
for base models (which repeat chat instructions instead of following them; see
app/util/instruction_echo.py). Partial summaries carry tags like [c3] naming the chunks they came
from, so the final summary can cite its sources; base models do not write tags, and the
citations then come from the words the points share with the pages (citations.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.documents.options import SummaryOptions, language_name
from inference.protocol import ChatMessage

# Bump when prompts change: stored summaries made with other prompts are then not reused.
PROMPT_VERSION = 2

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


# ---- one request's prompt, in the form the model follows ---------------------------------


@dataclass(frozen=True)
class Prompt:
    """What one request sends: chat `messages`, or for a base model a `text` to continue
    (with `stop` strings and the `lead` of the answer the text already wrote, such as "- ").
    `instructions` are Hearth's own words in it (never the document's), to find echoes of."""

    messages: tuple[ChatMessage, ...] = ()
    text: str = ""
    stop: tuple[str, ...] = ()
    lead: str = ""
    instructions: tuple[str, ...] = ()


def _chat(messages: list[ChatMessage], blank: list[ChatMessage]) -> Prompt:
    return Prompt(messages=tuple(messages), instructions=tuple(m.content for m in blank))


def _in_language(options: SummaryOptions) -> str:
    name = language_name(options.language)
    return "" if name == "English" else f" (in {name})"


# A base model knows "TL;DR:" from the web: the text after it is a short summary.
_TLDR = "TL;DR{language}:"
_NOTES = "Notes on the parts of the document, in order:"
_POINTS = "Key points{language}:"


def map_prompt(title: str, text: str, words: int, options: SummaryOptions, *, chat: bool) -> Prompt:
    if chat:
        return _chat(
            map_messages(title, text, words, options), map_messages("", "", words, options)
        )
    tldr = _TLDR.format(language=_in_language(options))
    return Prompt(text=f"{title}\n\n{text}\n\n{tldr}", stop=("\n\n",), instructions=(tldr,))


def reduce_prompt(
    title: str, partials_text: str, words: int, options: SummaryOptions, *, chat: bool
) -> Prompt:
    if chat:
        return _chat(
            reduce_messages(title, partials_text, words, options),
            reduce_messages("", "", words, options),
        )
    tldr = _TLDR.format(language=_in_language(options))
    return Prompt(
        text=f"{title}\n\n{_NOTES}\n{partials_text}\n\n{tldr}",
        stop=("\n\n",),
        instructions=(_NOTES, tldr),
    )


def final_prompt(
    title: str, source_text: str, options: SummaryOptions, *, whole_document: bool, chat: bool
) -> Prompt:
    if chat:
        return _chat(
            final_messages(title, source_text, options, whole_document=whole_document),
            final_messages("", "", options, whole_document=whole_document),
        )
    language = _in_language(options)
    header = (
        f"{title}\n\n{source_text}" if whole_document else (f"{title}\n\n{_NOTES}\n{source_text}")
    )
    if options.style in ("bullets", "key_points", "executive"):
        points = _POINTS.format(language=language)
        return Prompt(
            text=f"{header}\n\n{points}\n- ",
            stop=("\n\n",),
            lead="- ",
            instructions=(_NOTES, points),
        )
    tldr = _TLDR.format(language=language)
    return Prompt(text=f"{header}\n\n{tldr}", stop=("\n\n",), instructions=(_NOTES, tldr))


def plain_blocks(partials: Sequence[tuple[Sequence[int], str]]) -> str:
    """Partial summaries for a base model's prompt: one per paragraph, no tags (it would
    copy them as text)."""
    return "\n\n".join(text for _ids, text in partials if text.strip())
