"""Token counts from a remote server's own tokenizer (issue 14), found on first use: llama-server
and vLLM answer POST /tokenize, llama-cpp-python's server POST /extras/tokenize/count; a server
with neither (Ollama's and LM Studio's OpenAI APIs) gets an estimate, and `estimated` says so
for a context meter to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inference.backends.remote_probe import estimate_tokens, tokenize_body

# (url, JSON body) -> the count the endpoint answered, None when there is no such endpoint.
PostCount = Callable[[str, dict[str, Any]], int | None]


class TokenCounter:
    """Counts with the first endpoint that answers, remembered. Thread: one caller at a time
    per counter (a race only probes twice)."""

    def __init__(self, root: str, post_count: PostCount) -> None:
        self._root = root
        self._post_count = post_count
        self.method: str | None = None  # "tokenize", "extras" or "estimate" once known
        self._baseline = 0  # llama-cpp-python counts a BOS token in every text

    @property
    def estimated(self) -> bool | None:
        """True once it is known that counts are estimates; None before the first count."""
        return None if self.method is None else self.method == "estimate"

    def count(self, text: str, model: str) -> int:
        """Tokens of `text` (no BOS, no special tokens), by the server's tokenizer if it has
        one, else estimated."""
        if self.method in (None, "tokenize"):
            count = self._post_count(f"{self._root}/tokenize", tokenize_body(text, model))
            if count is not None:
                self.method = "tokenize"
                return count
        if self.method in (None, "extras"):
            url = f"{self._root}/extras/tokenize/count"
            if self.method is None:
                # It tokenizes with add_bos: count the empty text once and take that off.
                self._baseline = self._post_count(url, {"input": "", "model": model}) or 0
            count = self._post_count(url, {"input": text, "model": model})
            if count is not None:
                self.method = "extras"
                return max(0, count - self._baseline)
        self.method = "estimate"
        return estimate_tokens(text)
