"""Choosing a model's chat format: its own template when that renders faithfully, a user's
custom template, or the built-in format for its architecture.

A model's template must keep every user and system text of a probe conversation. One that
drops or refuses the system message (Mistral-7B-Instruct-v0.3's, Phi-3-mini's first one) is
used with the system text folded into the first user turn, and its label says so. Stop
strings come from the loaded model (ModelTokens): the text the template writes after a reply,
then the model's own end-of-turn tokens, never another family's markers.

Used by both the GUI and the engine process: imports neither Qt nor llama_cpp.
"""

from __future__ import annotations

from dataclasses import replace

from inference.templates.formats import (
    AUTO_FORMAT,
    BUILTIN_FORMATS,
    CUSTOM_TEMPLATE_LABEL,
    CUSTOM_TEMPLATE_NAME,
    FOLDED_SYSTEM_NOTE,
    MODEL_TEMPLATE_LABEL,
    MODEL_TEMPLATE_NAME,
    ChatFormat,
    ModelTokens,
    PromptFormatError,
    format_for_architecture,
)
from inference.templates.sandbox import MAX_TEMPLATE_SOURCE_CHARS, render_prompt

# Turn-closing markers recognised inside a model's template, in preference order; they become
# that format's stop strings.
_KNOWN_TURN_ENDS: tuple[str, ...] = (
    "<end_of_turn>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "</s>",
)


# Probe conversation a template must render faithfully. Distinct marker texts, with no
# leading or trailing spaces (several templates trim message content), so each can be found.
_PROBE_SYSTEM = "Hearth system 2c9d"
_PROBE_FIRST = "Hearth first 51e0"
_PROBE_REPLY = "Hearth reply 8b4f"
_PROBE_TEXT = "Hearth probe 7f3a"
_PROBES: tuple[tuple[dict[str, str], ...], ...] = (
    ({"role": "user", "content": _PROBE_TEXT},),
    (
        {"role": "system", "content": _PROBE_SYSTEM},
        {"role": "user", "content": _PROBE_FIRST},
        {"role": "assistant", "content": _PROBE_REPLY},
        {"role": "user", "content": _PROBE_TEXT},
    ),
)


def _keeps_probe_text(fmt: ChatFormat, tokens: ModelTokens) -> bool:
    """Whether `fmt` renders both probe conversations with the users' and the system's text
    in them. PromptFormatError when the template fails on them."""
    for probe in _PROBES:
        text = render_prompt(fmt, probe, bos_token=tokens.bos, eos_token=tokens.eos)
        wanted = [m["content"] for m in probe if m["role"] in ("system", "user")]
        if not all(content in text for content in wanted):
            return False
    return True


def _checked_template(fmt: ChatFormat, tokens: ModelTokens) -> ChatFormat | None:
    """`fmt` as it can be used: unchanged when it keeps every message's text; folding the
    system prompt into the first user turn when it drops or refuses a system message (as
    Mistral-7B-Instruct-v0.3's and Phi-3-mini's templates do); None when it loses text
    either way. Raises PromptFormatError with the template's own error in that last case."""
    error: PromptFormatError | None = None
    try:
        if _keeps_probe_text(fmt, tokens):
            return fmt
    except PromptFormatError as exc:
        error = exc
    folded = replace(fmt, fold_system=True, label=fmt.label + FOLDED_SYSTEM_NOTE)
    try:
        if _keeps_probe_text(folded, tokens):
            return folded
    except PromptFormatError:
        pass
    if error is not None:  # the template's own complaint says more than "text missing"
        raise error
    return None


def _turn_closer(fmt: ChatFormat, tokens: ModelTokens) -> str | None:
    """The text `fmt` writes right after an assistant reply, when it is one of the model's
    end-of-turn tokens or a known turn-closing marker: what the model emits to end a turn."""
    try:
        text = render_prompt(fmt, _PROBES[1], bos_token=tokens.bos, eos_token=tokens.eos)
    except PromptFormatError:
        return None
    at = text.find(_PROBE_REPLY)
    if at < 0:
        return None
    after = text[at + len(_PROBE_REPLY) :].lstrip()
    candidates = (*tokens.end_of_turn, *_KNOWN_TURN_ENDS)
    matches = [marker for marker in candidates if marker and after.startswith(marker)]
    return max(matches, key=len) if matches else None


def _template_stops(fmt: ChatFormat, tokens: ModelTokens, fallback: ChatFormat) -> tuple[str, ...]:
    """Stop strings for a model's or a custom template: the text that closes an assistant
    turn in this template, then the model's own end-of-turn tokens. Without either, the
    known turn-closing markers the template mentions, then the fallback format's stops."""
    closer = _turn_closer(fmt, tokens)
    if closer is not None:
        return tuple(dict.fromkeys((closer, *tokens.end_of_turn)))
    if tokens.end_of_turn:
        return tokens.end_of_turn
    found = tuple(marker for marker in _KNOWN_TURN_ENDS if marker in fmt.template)
    return found or fallback.stop


def with_model_stops(fmt: ChatFormat, tokens: ModelTokens) -> ChatFormat:
    """A built-in format's stops for a particular model: the format's own turn closer, then
    the model's end-of-turn tokens instead of the format's guess at them (ChatML's
    "<|endoftext|>" means nothing to a Mistral vocabulary)."""
    if not tokens.end_of_turn:
        return fmt
    return replace(fmt, stop=tuple(dict.fromkeys((fmt.stop[0], *tokens.end_of_turn))))


def select_format(
    architecture: str | None, chat_template: str | None, tokens: ModelTokens | None = None
) -> ChatFormat:
    """Pick the chat format for a model.

    The model's own template wins when present, compiles in the sandbox and renders the
    probe conversations (one with a system prompt, which the app may always send) keeping
    the users' and the system's text; a template that drops or refuses the system prompt is
    used with it folded into the first user turn. Otherwise the built-in format for the
    architecture is used. `tokens` (the loaded model's) make the probes render as they
    will for real and give the stop strings; without them the stops are a best guess.
    """
    tokens = tokens or ModelTokens()
    fallback = with_model_stops(format_for_architecture(architecture), tokens)
    if not chat_template or not chat_template.strip():
        return fallback
    candidate = ChatFormat(
        name=MODEL_TEMPLATE_NAME,
        label=MODEL_TEMPLATE_LABEL,
        template=chat_template,
        stop=fallback.stop,
        source="model",
    )
    try:
        checked = _checked_template(candidate, tokens)
    except PromptFormatError:
        return fallback
    if checked is None:
        return fallback
    return replace(checked, stop=_template_stops(checked, tokens, fallback))


def custom_format(
    template: str, architecture: str | None = None, tokens: ModelTokens | None = None
) -> ChatFormat:
    """A user's own Jinja template, checked in the sandbox with the same probe conversations
    as a model's template (and folding the system prompt the same way). Unlike a model's, it
    must work: PromptFormatError says why not."""
    if len(template) > MAX_TEMPLATE_SOURCE_CHARS:
        raise PromptFormatError("The custom chat template is too long.")
    if not template.strip():
        raise PromptFormatError("The custom chat template is empty.")
    tokens = tokens or ModelTokens()
    fallback = with_model_stops(format_for_architecture(architecture), tokens)
    fmt = ChatFormat(
        name=CUSTOM_TEMPLATE_NAME,
        label=CUSTOM_TEMPLATE_LABEL,
        template=template,
        stop=fallback.stop,
        source="model",
    )
    checked = _checked_template(fmt, tokens)
    if checked is None:
        raise PromptFormatError(
            "The custom chat template leaves out the messages' text (it never writes "
            "message['content'])."
        )
    return replace(checked, stop=_template_stops(checked, tokens, fallback))


def format_for_override(
    override: str,
    architecture: str | None,
    chat_template: str | None,
    tokens: ModelTokens | None = None,
) -> ChatFormat:
    """The format an EngineSettings.chat_format asks for: "auto" (select_format), a built-in
    name, or a custom template's text. Raises PromptFormatError for a broken custom one.
    `tokens`: the loaded model's special tokens (see select_format)."""
    choice = (override or AUTO_FORMAT).strip()
    if choice == AUTO_FORMAT:
        return select_format(architecture, chat_template, tokens)
    if choice in BUILTIN_FORMATS:
        return with_model_stops(BUILTIN_FORMATS[choice], tokens or ModelTokens())
    return custom_format(override, architecture, tokens)
