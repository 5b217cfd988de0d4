"""Whether a draft model shares the main model's vocabulary (issue 13), read from the GGUF
headers before either file reaches llama.cpp.

Speculative decoding hands the draft model's token ids to the main model as they are, so the
two must number the same pieces the same way: the same tokenizer model
(`tokenizer.ggml.model`), the same number of tokens, the identical token list and the same
BOS/EOS ids. A draft model that differs is refused with a message naming the difference.

The token list is compared by a SHA-256 of its bytes as the file stores them (the array of
length-prefixed strings is contiguous, so this is one hash over one slice of the mapped file:
7 ms for Gemma 3's 262,144 tokens, 4.4 MB); the pieces are decoded only to name the first id
where two lists differ. Measured here on Gemma 3 270M: read_vocabulary 0.12 s (the header
validated, then walked again for the list's span), the check of two such files 0.3 s, so
callers run it off the GUI thread. Read with the bounds-checked reader of this package, not
gguf-py's GGUFReader (reader.py says why: ~13 s on that vocabulary, and not safe on hostile
files); the `gguf` package still supplies the key names (gguf.Keys.Tokenizer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from gguf import Keys

from inference.gguf.reader import HEADER_SIZE, Cursor, ModelFileError, map_file, read_key_values
from inference.gguf.validate import inspect_gguf

RULE = "a draft model must share the main model's vocabulary"


@dataclass(frozen=True)
class Vocabulary:
    """What of a model's tokenizer a draft model must match. `digest`: SHA-256 of the token
    list's bytes in the file; `tokenizer`: tokenizer.ggml.model ("" when absent)."""

    name: str  # the file's name, as messages show it
    tokenizer: str
    size: int
    digest: str
    bos_id: int | None
    eos_id: int | None


def _token_span(path: Path) -> tuple[dict[str, object], bytes, list[int]]:
    """The metadata, the token list's bytes and its strings' offsets within those bytes."""
    with map_file(path) as mm:
        cur = Cursor(mm)
        cur.pos = HEADER_SIZE - 8
        n_kv = cur.u64()
        metadata, _, offsets = read_key_values(cur, n_kv)
        if offsets is None or len(offsets) == 0:
            return dict(metadata), b"", []
        cur.pos = offsets[-1]
        cur.skip_string()
        start = offsets[0]
        return dict(metadata), bytes(mm[start : cur.pos]), [o - start for o in offsets]


def read_vocabulary(path: Path) -> Vocabulary:
    """The vocabulary of the model at `path`. Raises ModelFileError (a plain message) for a
    missing, damaged or unreadable file: inspect_gguf validates the header first."""
    path = Path(path)
    inspect_gguf(path)
    try:
        metadata, span, offsets = _token_span(path)
    except OSError as exc:
        raise ModelFileError(f"The file could not be read: {path} ({exc.strerror})") from None

    def uint(key: str) -> int | None:
        value = metadata.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    tokenizer = metadata.get(Keys.Tokenizer.MODEL)
    return Vocabulary(
        name=path.name,
        tokenizer=tokenizer if isinstance(tokenizer, str) else "",
        size=len(offsets),
        digest=hashlib.sha256(span).hexdigest(),
        bos_id=uint(Keys.Tokenizer.BOS_ID),
        eos_id=uint(Keys.Tokenizer.EOS_ID),
    )


def _tokens(path: Path) -> list[str]:
    _, span, offsets = _token_span(path)
    cur = Cursor(span)
    out: list[str] = []
    for offset in offsets:
        cur.pos = offset
        out.append(cur.string())
    return out


def _first_difference(main: Path, draft: Path) -> tuple[int, str, str] | None:
    for token_id, (a, b) in enumerate(zip(_tokens(draft), _tokens(main), strict=False)):
        if a != b:
            return token_id, a, b
    return None


def _id(value: int | None) -> str:
    return "none" if value is None else str(value)


def vocabulary_mismatch(main_path: Path, draft_path: Path) -> str | None:
    """None when the model at `draft_path` can draft for the one at `main_path`, else a
    sentence naming the first difference found. Raises ModelFileError when either file cannot
    be read (its message names the file's problem, not which of the two it is)."""
    main, draft = read_vocabulary(Path(main_path)), read_vocabulary(Path(draft_path))
    d, m = draft.name, main.name
    if draft.tokenizer != main.tokenizer:
        return (
            f"draft model {d} uses the '{draft.tokenizer or 'unknown'}' tokenizer, {m} uses "
            f"'{main.tokenizer or 'unknown'}': {RULE}"
        )
    if draft.size != main.size:
        return (
            f"draft model {d} has a vocabulary of {draft.size:,} tokens, {m} has "
            f"{main.size:,}: {RULE}"
        )
    if draft.digest != main.digest:
        where = _first_difference(Path(main_path), Path(draft_path))
        if where is not None:
            token_id, a, b = where
            return (
                f"draft model {d}'s tokens differ from {m}'s at id {token_id} "
                f"({a!r} vs {b!r}): {RULE}"
            )
        return f"draft model {d}'s tokens differ from {m}'s: {RULE}"
    if draft.bos_id != main.bos_id:
        return (
            f"draft model {d} begins a text with token id {_id(draft.bos_id)}, {m} with "
            f"{_id(main.bos_id)}: {RULE}"
        )
    if draft.eos_id != main.eos_id:
        return (
            f"draft model {d} ends a text with token id {_id(draft.eos_id)}, {m} with "
            f"{_id(main.eos_id)}: {RULE}"
        )
    return None
