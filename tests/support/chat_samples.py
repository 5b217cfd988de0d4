"""A chat history with everything an export must carry: versions of a reply and of a user
message, every status, stats, unicode, code blocks and hostile-looking HTML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role, StatsRecord

STATS = StatsRecord(
    model="gemma-3-270m-it-Q8_0 <script>",
    chat_format="gemma",
    n_ctx=4096,
    n_gpu_layers=-1,
    prompt_tokens=120,
    prompt_tokens_evaluated=17,
    completion_tokens=42,
    ttft_ms=35.5,
    prefill_tps=812.25,
    decode_tps=97.125,
    total_ms=468.75,
    stop_reason="eos",
)

TITLE = "Sorting <script>alert('title')</script> & more"
SYSTEM_PROMPT = "Answer briefly.\nNever <script>alert('system')</script>."
QUESTION = "How do I sort a list? Grüße 🎉 日本語 <img src=x onerror=alert(1)>"
CODE = 'rows.sort(key=lambda r: r["age"])  # <script>alert("code")</script>'
ANSWER = (
    f"Use `list.sort`:\n\n```python\n{CODE}\n```\n\n"
    "Links: [docs](https://docs.python.org/3/) and [bad](javascript:alert(1)); "
    "![tracker](https://example.com/pixel.png)"
)
CUT_ANSWER = "Partial answer with an open block:\n\n```\nrows.sort(\n"
EDITED_QUESTION = "How do I sort a list **descending**?"


@dataclass(frozen=True)
class Sample:
    main_id: int
    other_id: int
    trashed_id: int
    question_id: int
    answer_id: int
    cut_answer_id: int
    edited_question_id: int


def open_database(path: Path) -> Database:
    database, note = Database.open(path)
    assert note is None
    return database


SAMPLING = {"temperature": 0.3, "top_k": 20, "seed": 7}


def build_sample(db: Database) -> Sample:
    conversations = ConversationRepository(db)
    messages = MessageRepository(db)

    main = conversations.create(TITLE)
    question = messages.add(main.id, Role.USER, QUESTION)
    answer = messages.start_reply(main.id, question.id)
    messages.finish_reply(answer.id, ANSWER, MessageStatus.COMPLETE, stats=STATS)
    # A regeneration that was stopped halfway, then the user went back to the first answer.
    cut = messages.start_reply(main.id, question.id)
    messages.finish_reply(cut.id, CUT_ANSWER, MessageStatus.INTERRUPTED, error="Stopped by you")
    assert messages.select_version(cut.id, -1) == answer.id
    follow_up = messages.add(main.id, Role.USER, "And reversed?", parent_id=answer.id)
    failed = messages.start_reply(main.id, follow_up.id)
    messages.finish_reply(
        failed.id, "", MessageStatus.ERROR, error="The engine stopped <b>unexpectedly</b>."
    )
    # An edit of the first question: a second root version, not the one shown.
    edited = messages.add(main.id, Role.USER, EDITED_QUESTION)
    assert messages.select_version(edited.id, -1) == question.id
    conversations.set_pinned(main.id, True)
    conversations.set_system_prompt(main.id, SYSTEM_PROMPT)
    conversations.set_sampling(main.id, SAMPLING)
    # The failed reply was written when the context was full: the first answer was left out.
    messages.set_outside_view(failed.id, {question.id, answer.id})

    other = conversations.create("Second chat")
    conversations.rename(other.id, "Second chat")  # typed by the user: never retitled
    hello = messages.add(other.id, Role.USER, "Hello")
    reply = messages.start_reply(other.id, hello.id)
    messages.finish_reply(reply.id, "Hi! 👋", MessageStatus.COMPLETE, stats=STATS)

    trashed = conversations.create("In the trash")
    messages.add(trashed.id, Role.USER, "deleted words")
    conversations.delete(trashed.id)
    return Sample(main.id, other.id, trashed.id, question.id, answer.id, cut.id, edited.id)
