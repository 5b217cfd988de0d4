"""What the model is shown of a stored branch: real turns only, alternating, rendered by the
strict Gemma format without error whatever state the history was left in."""

from __future__ import annotations

import pytest

from app.chat.prompt_history import MERGE_SEPARATOR, prompt_messages, prompt_turns
from inference.templates import BUILTIN_FORMATS, render_prompt
from storage.records import MessageStatus, Role
from tests.support.factories import make_message

U, A = Role.USER, Role.ASSISTANT
S = MessageStatus


def _render_strict(messages: list[tuple[str, str]]) -> str:
    return render_prompt(BUILTIN_FORMATS["gemma"], [{"role": r, "content": c} for r, c in messages])


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (S.ERROR, ""),  # "Cancelled before it started."
        (S.INTERRUPTED, ""),  # the engine or the app died before the first token
        (S.COMPLETE, ""),  # stopped during the prefill
        (S.STREAMING, "half a sen"),  # still being written (or the disk filled)
        (S.ERROR, "an answer cut by an error"),  # not an answer the user got
        (S.DAMAGED, "?"),
        (S.COMPLETE, "  \n"),
    ],
)
def test_a_reply_the_model_should_not_see_is_left_out_and_the_questions_merge(
    status: MessageStatus, content: str
) -> None:
    records = [
        make_message(1, U, "first question"),
        make_message(2, A, content, status),
        make_message(3, U, "second question"),
    ]
    turns = prompt_turns(records)
    assert [(t.message.role, t.message.content, t.ids) for t in turns] == [
        ("user", "first question" + MERGE_SEPARATOR + "second question", (1, 3)),
    ]
    _render_strict([(m.role, m.content) for m in prompt_messages(records)])


def test_an_interrupted_reply_with_text_stays_and_a_draft_joins_an_unanswered_question() -> None:
    records = [
        make_message(1, U, "tell me a story"),
        make_message(2, A, "Once upon a", S.INTERRUPTED),
        make_message(3, U, "go on"),
        make_message(4, A, "", S.ERROR),
    ]
    messages = prompt_messages(records, next_user="please")
    assert [(m.role, m.content) for m in messages] == [
        ("user", "tell me a story"),
        ("assistant", "Once upon a"),
        ("user", "go on" + MERGE_SEPARATOR + "please"),
    ]
    assert [t.ids for t in prompt_turns(records, next_user="please")] == [(1,), (2,), (3,)]


def test_an_answer_whose_question_is_damaged_is_left_out() -> None:
    records = [
        make_message(1, U, "", S.DAMAGED),
        make_message(2, A, "an answer to nothing"),
        make_message(3, U, "hello"),
        make_message(4, A, "hi"),
        make_message(5, A, "and more"),  # two replies in a row (a damaged question between)
    ]
    messages = prompt_messages(records, next_user="bye")
    assert [(m.role, m.content) for m in messages] == [
        ("user", "hello"),
        ("assistant", "hi" + MERGE_SEPARATOR + "and more"),
        ("user", "bye"),
    ]
    _render_strict([(m.role, m.content) for m in messages])


def test_the_prompt_of_a_chat_grows_by_appending_only() -> None:
    """Prompt-cache reuse: the turns before the newest never change as the chat goes on."""
    records = [
        make_message(1, U, "a"),
        make_message(2, A, "", S.ERROR),
        make_message(3, U, "b"),
        make_message(4, A, "answer"),
    ]
    before = prompt_messages(records[:3])
    after = prompt_messages([*records, make_message(5, U, "c")])
    assert after[: len(before)] == before
