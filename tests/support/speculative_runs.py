"""Run one reply in-process on a loaded Llama, with drafting forced on or off (issue 13 tests
and bench/speculative.py): the same Generation the engine runs, without the pipe."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process.draft_switch import DraftSwitch
from inference.process.drafting import PromptLookup
from inference.process.generation import Generation, GenerationRequest, Outcome
from inference.process.speculative import Drafter
from inference.protocol import Sampling

GREEDY = Sampling(temperature=0.0, top_k=1, seed=1)

# Copy-heavy and plain prompts: quoting, repeating, lists, numbers, code, prose.
SOURCE = "the cat sat on the mat, and the dog sat by the door of the old house"
PROMPTS: tuple[str, ...] = (
    f"Repeat this: {SOURCE}. Again: {SOURCE}.",
    f"Quote the text. Text: {SOURCE}. Quote:",
    f"Summarize: {SOURCE}. {SOURCE}. Summary: the cat",
    "one two three four five six seven eight nine ten one two three four five",
    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16",
    "def add(a, b):\n    return a + b\n\ndef add(a, b):\n    return",
    "Once upon a time",
    "hello",
    "the",
    "What is the time? What is the time? What is",
    "a b c d e f g a b c d e f g a b c",
    "Translate: The house is red. -> La casa es roja. The house is red. ->",
    "Name: Alice Smith, Age: 42, City: Paris. Name: Alice Smith, Age:",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "I think that we have to say what we do and do what we say.",
    "for i in range(10):\n    print(i)\nfor i in range(10):\n",
    "x" * 40,
    "the the the the the the the the",
    "New York, London, Paris, Berlin. New York, London,",
    "She said: 'I will be there at six.' He said: 'I will",
    "up down up down up down up",
    "SELECT name FROM users WHERE id = 1; SELECT name FROM",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum",
    "2026-12-04 20:56:06 UTC, 2026-12-04 20:56:07 UTC, 2026-12-04",
    "if it is not one thing it is another",
    "about who get which go me when make can like time no just him know take people",
    "<start_of_turn>user\nRepeat: on with at by<end_of_turn>\n<start_of_turn>model\n",
    "A" * 3 + " story " + "B" * 3 + " story " + "A" * 3,
    "all my one would there their what so up out if about",
    "The end.",
    "ABABABABABAB",
    "her she or an will my one all would there",
)


class ReplayDrafter:
    """Proposes the next tokens of a known reply (`reply`: plain decoding's ids), so drafts
    are as long as DraftLength lets them grow (12: 13-row verifications) whatever the model
    guesses; every `wrong_every`-th proposal (0: never) has its last token wrong, so the
    verifier also samples rejected rows."""

    kind = "replay"

    def __init__(self, reply: Sequence[int], wrong_every: int = 0) -> None:
        self.reply = list(reply)
        self.wrong_every = wrong_every
        self.at = 0
        self.proposals = 0

    def sync(self, tokens: Sequence[int], offset: int) -> None:
        self.at = len(tokens)

    def propose(self, k: int) -> list[int]:
        drafts = self.reply[self.at : self.at + k]
        self.proposals += 1
        if drafts and self.wrong_every and self.proposals % self.wrong_every == 0:
            last = drafts[-1]
            drafts[-1] = last - 1 if last > 0 else last + 1
        return drafts


def run_reply(
    llm: Llama,
    prompt: str | Sequence[int],
    drafting: str,
    *,
    max_tokens: int = 48,
    sampling: Sampling = GREEDY,
    stops: tuple[str, ...] = (),
    ignore_eos: bool = True,
    interrupt: Callable[[], str | None] = lambda: None,
    switch: DraftSwitch | None = None,
    drafter: Callable[[Sequence[int]], Drafter] = PromptLookup,
    work: str = "",
    clear: bool = True,
) -> Generation:
    """One reply to `prompt` (text or token ids) from an empty cache (unless not `clear`),
    resumed after every pause until it finishes."""
    tokens = (
        llm.tokenize(prompt.encode(), add_bos=True, special=True)
        if isinstance(prompt, str)
        else list(prompt)
    )
    request = GenerationRequest(
        1, "completion", 10, tokens, max_tokens, sampling, stops, ignore_eos,
        drafting=drafting, work=work,
    )  # fmt: skip
    generation = Generation(request, model=None, switch=switch, drafter=drafter)
    if clear:
        adapter.clear_kv_cache(llm)
    piece = adapter.PieceReader(llm)
    events: list[Any] = []
    while generation.run(llm, piece, events.append, interrupt) is Outcome.PREEMPTED:
        pass
    return generation
