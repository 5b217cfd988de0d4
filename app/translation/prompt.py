"""The messages a translation request sends, and cleanup of what the model adds around the
translation (labels, quotes).

Two forms: chat messages with instructions for instruction-tuned models, and for base
models (which repeat such instructions instead of following them, see
app/util/instruction_echo.py) a text they continue: "English: …\nFrench:".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.languages.codes import language
from app.translation.glossary import Glossary
from inference.protocol import ChatMessage, Sampling

# Near-greedy: a translation has one right answer, and creativity means drift. A little
# repeat penalty stops small models from looping.
TRANSLATION_SAMPLING = Sampling(
    temperature=0.1, top_p=0.9, top_k=20, min_p=0.05, repeat_penalty=1.05, seed=0
)

_LABEL = re.compile(
    r"^\s*(?:here(?:'s| is) (?:the|your|my) translation[^:\n]*:|translation[^:\n]{0,30}:|"
    r"(?:[A-Z][a-zç]+(?: [A-Z][a-z]+)?)\s*:(?=\s*\n))\s*",
    re.IGNORECASE,
)
_QUOTES = (('"', '"'), ("“", "”"), ("«", "»"), ("„", "“"), ("'", "'"), ("「", "」"))


def language_name(code: str | None) -> str:
    return "the source language" if code is None else language(code).name


def system_prompt(source_lang: str | None, target_lang: str, glossary: Glossary) -> str:
    source = language_name(source_lang)
    lines = [
        f"You are a professional translator. Translate the user's text from {source} "
        f"to {language_name(target_lang)}.",
        "Reply with the translation only: no explanations, no notes, no quotation marks around it.",
        "Keep markers such as ⟦1⟧ exactly as they are, where they belong in the sentence.",
        "Keep the line breaks and Markdown formatting (such as **bold**) of the text.",
    ]
    extra = glossary.instructions()
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def build_messages(
    text: str,
    *,
    source_lang: str | None,
    target_lang: str,
    glossary: Glossary,
    previous: tuple[str, str] | None,
) -> list[ChatMessage]:
    """System prompt, the previous segment as a finished turn (context), then `text`."""
    messages = [ChatMessage("system", system_prompt(source_lang, target_lang, glossary))]
    if previous is not None:
        messages += [ChatMessage("user", previous[0]), ChatMessage("assistant", previous[1])]
    messages.append(ChatMessage("user", text))
    return messages


def instruction_texts(source_lang: str | None, target_lang: str) -> tuple[str, ...]:
    """Hearth's own words in a chat request (not the user's text or glossary terms), one
    instruction a line: what an echo of the instructions would repeat."""
    return tuple(system_prompt(source_lang, target_lang, Glossary()).splitlines())


@dataclass(frozen=True)
class CompletionPrompt:
    text: str
    stop: tuple[str, ...]


def completion_prompt(
    text: str,
    *,
    source_lang: str | None,
    target_lang: str,
    previous: tuple[str, str] | None,
) -> CompletionPrompt:
    """For a base model: the previous segment and its translation as an example, then the
    text after its language's name, and the target language's name to continue from."""
    source = "Original" if source_lang is None else language(source_lang).name
    target = language(target_lang).name
    lines = []
    if previous is not None:
        lines += [f"{source}: {previous[0]}", f"{target}: {previous[1]}", ""]
    lines += [f"{source}: {text}", f"{target}:"]
    return CompletionPrompt("\n".join(lines), ("\n\n", f"\n{source}:"))


def clean_output(output: str, source: str) -> str:
    """Strip what models add around a translation: a leading label, wrapping quotes."""
    text = _LABEL.sub("", output, count=1).strip()
    for opening, closing in _QUOTES:
        wrapped = len(text) >= 2 and text.startswith(opening) and text.endswith(closing)
        if wrapped and not source.startswith(opening):
            inner = text[len(opening) : -len(closing)]
            if opening not in inner and closing not in inner:
                text = inner.strip()
            break
    return text
