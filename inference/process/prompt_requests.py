"""The prompt side of requests in the engine process: counting tokens, fitting a chat to the
context window by its overflow policy, and warming the template text of the next chat turn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process.context_fit import OverflowPolicy, fit_messages, reply_reserve
from inference.process.model_load import LoadedModel
from inference.protocol import (
    ChatMessage,
    Error,
    ErrorKind,
    GenerateRequest,
    Tokenized,
    TokenizeRequest,
)
from inference.templates import PromptFormatError


def count_tokens(model: LoadedModel, request: TokenizeRequest, send: Callable[[Any], None]) -> None:
    if request.texts:
        counts = tuple(
            len(model.llm.tokenize(t.encode("utf-8"), add_bos=False, special=request.special))
            for t in request.texts
        )
        send(Tokenized(request.id, sum(counts), counts))
        return
    if request.messages:
        try:
            ids = model.builder.build(request.messages)
        except PromptFormatError as exc:
            send(Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))
            return
    else:
        ids = model.llm.tokenize(
            request.text.encode("utf-8"), add_bos=False, special=request.special
        )
    send(Tokenized(request.id, len(ids)))


def fit_to_context(
    model: LoadedModel, request: GenerateRequest, send: Callable[[Any], None]
) -> tuple[Sequence[ChatMessage], list[int], tuple[int, ...]] | None:
    """The messages to send, their prompt ids and the indices left out, by the request's
    overflow policy; None after sending the error that explains why not."""
    messages: Sequence[ChatMessage] = request.messages
    try:
        prompt = model.builder.build(messages)
        policy = OverflowPolicy(request.overflow)
    except (PromptFormatError, ValueError) as exc:
        send(Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))
        return None
    n_ctx = model.llm.n_ctx()
    limit = n_ctx - reply_reserve(n_ctx, request.max_tokens)
    if len(prompt) <= limit or policy is OverflowPolicy.FAIL:
        return messages, prompt, ()
    if policy is OverflowPolicy.ASK:
        alone = sum(m.role != "system" for m in messages) == 1
        what = "This message is too long for" if alone else "This conversation no longer fits"
        advice = " Shorten it or choose a larger context size." if alone else ""
        send(
            Error(
                request.id,
                ErrorKind.PROMPT_TOO_LONG,
                f"{what} the model's context window ({len(prompt)} tokens; {limit} leave "
                f"room for an answer).{advice}",
            )
        )
        return None
    try:
        kept, dropped = fit_messages(
            messages, lambda some: len(model.builder.build(some)), limit, policy
        )
        return kept, model.builder.build(kept), dropped
    except PromptFormatError as exc:
        send(Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))
        return None


def warm_next_turn(model: LoadedModel, messages: tuple[ChatMessage, ...]) -> None:
    """Right after a reply, evaluate the template text that closes it and opens the next
    user turn (a handful of tokens), so the next turn pays only for the user's words.
    The cost is a few milliseconds, spent while the user reads."""
    try:
        prefix = model.builder.next_turn_prefix(messages)
    except PromptFormatError:
        return
    llm = model.llm
    cached = adapter.cached_tokens(llm)
    common = Llama.longest_token_prefix(cached, prefix)
    # Only extend what is cached; never disturb it, and keep room in the context.
    if common == len(cached) and len(cached) < len(prefix) < llm.n_ctx() - 1:
        llm.eval(prefix[len(cached) :])
