"""The cache ledger's reasons on their own (token ids made up): the cases the engine tests
cannot reach cheaply, such as a reply that ended early and was tokenized anew."""

from __future__ import annotations

from inference.process.cache_ledger import CacheLedger, Evaluation
from inference.protocol import ChatMessage, MissCode

SYSTEM = ChatMessage("system", "be brief")
HI = ChatMessage("user", "hi")
REPLY = ChatMessage("assistant", "hello")
MORE = ChatMessage("user", "more")


def ledger_after(messages: tuple[ChatMessage, ...], prompt: list[int], reply: str) -> CacheLedger:
    ledger = CacheLedger()
    ledger.loaded("model.gguf")
    ledger.evaluated(Evaluation(1, "chat", 0, messages), prompt)
    ledger.ended(1, reply)
    return ledger


def test_a_prompt_that_only_extends_the_cache_misses_nothing() -> None:
    ledger = ledger_after((SYSTEM, HI), [1, 2, 3], "hello")
    cached = [1, 2, 3, 4, 5]  # prompt, then the reply's tokens
    new = Evaluation(2, "chat", 0, (SYSTEM, HI, REPLY, MORE))
    assert ledger.explain(new, cached, [1, 2, 3, 4, 5, 6, 7], common=5) is None
    regenerate = Evaluation(3, "chat", 0, (SYSTEM, HI))
    assert ledger.explain(regenerate, cached, [1, 2, 3], common=3) is None


def test_a_reply_that_ended_early_and_tokenizes_differently_is_named() -> None:
    ledger = ledger_after((SYSTEM, HI), [1, 2, 3], "hello")
    new = Evaluation(2, "chat", 0, (SYSTEM, HI, REPLY, MORE))
    miss = ledger.explain(new, [1, 2, 3, 4, 5], [1, 2, 3, 9, 9, 6], common=3)
    assert miss is not None and miss.code == MissCode.REPLY_RETOKENIZED
    assert (miss.message_index, miss.role, miss.at_token) == (2, "assistant", 3)


def test_an_edit_is_named_by_its_index_in_the_request_messages_after_a_shift() -> None:
    ledger = CacheLedger()
    ledger.loaded("model.gguf")
    kept = (SYSTEM, HI, REPLY, MORE)
    ledger.evaluated(Evaluation(1, "chat", 0, kept, dropped=(1, 2)), [1, 2, 3, 4])
    edited = (SYSTEM, HI, ChatMessage("assistant", "changed"), MORE)
    miss = ledger.explain(Evaluation(2, "chat", 0, edited, (1, 2)), [1, 2, 3, 4], [1, 2, 8], 2)
    assert miss is not None and miss.code == MissCode.MESSAGE_EDITED
    assert (miss.message_index, miss.role) == (4, "assistant")  # indices 1 and 2 were left out


def test_an_evaluation_the_ledger_did_not_see_is_another_request() -> None:
    ledger = ledger_after((SYSTEM, HI), [1, 2, 3], "hello")
    new = Evaluation(2, "chat", 0, (SYSTEM, HI, REPLY, MORE))
    miss = ledger.explain(new, [7, 7, 7], [1, 2, 3, 4], common=0)
    assert miss is not None and miss.code == MissCode.OTHER_REQUEST and miss.other_id == -1


def test_raw_completions_that_differ_are_a_changed_prompt() -> None:
    ledger = CacheLedger()
    ledger.loaded("a.gguf")
    ledger.evaluated(Evaluation(1, "completion", 10), [1, 2, 3])
    miss = ledger.explain(Evaluation(2, "completion", 10), [1, 2, 3], [1, 5, 6], common=1)
    assert miss is not None and miss.code == MissCode.PROMPT_CHANGED and miss.at_token == 1
    ledger.loaded("a.gguf")  # the same model again: first since load, not another model
    miss = ledger.explain(Evaluation(3, "completion", 10), [], [1], common=0)
    assert miss is not None and miss.code == MissCode.FIRST_SINCE_LOAD


def test_a_benchmark_run_in_between_is_named_although_it_left_the_cache_empty() -> None:
    ledger = ledger_after((SYSTEM, HI), [1, 2, 3], "hello")
    ledger.benchmarked(7, priority=10)
    new = Evaluation(8, "chat", 0, (SYSTEM, HI, REPLY, MORE))
    miss = ledger.explain(new, [], [1, 2, 3, 4, 5, 6], common=0)
    assert miss is not None and miss.code == MissCode.OTHER_REQUEST
    assert (miss.other_id, miss.other_kind) == (7, "bench")
