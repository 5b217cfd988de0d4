"""Tiny random-weight GGUF models, built offline, for tests that exercise the real llama.cpp path.

The vocabulary is defined here (SentencePiece style, byte fallback) so no download is needed and
the files stay well under a megabyte: llama.cpp loads them and generates in milliseconds. The
output is gibberish, but it is deterministic for a given seed with greedy sampling.

`build_corrupt_variants` writes malformed files that a pre-flight validator must reject before
llama.cpp sees them (one of them, "bad_heads", makes llama.cpp abort the whole process).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import gguf
import numpy as np

DEFAULT_SPECIAL_TOKENS: tuple[str, ...] = (
    "<start_of_turn>",
    "<end_of_turn>",
    "<|im_start|>",
    "<|im_end|>",
)

UNK_ID = 0
BOS_ID = 1
EOS_ID = 2

# Common English words. Every prefix of "▁word" becomes a piece too, because llama.cpp's
# SentencePiece tokenizer only merges adjacent symbols into pieces that exist in the
# vocabulary, so a whole word is reachable only through its prefixes.
_WORDS: tuple[str, ...] = (
    "the",
    "be",
    "to",
    "of",
    "and",
    "a",
    "in",
    "that",
    "have",
    "it",
    "for",
    "not",
    "on",
    "with",
    "he",
    "as",
    "you",
    "do",
    "at",
    "this",
    "but",
    "his",
    "by",
    "from",
    "they",
    "we",
    "say",
    "her",
    "she",
    "or",
    "an",
    "will",
    "my",
    "one",
    "all",
    "would",
    "there",
    "their",
    "what",
    "so",
    "up",
    "out",
    "if",
    "about",
    "who",
    "get",
    "which",
    "go",
    "me",
    "when",
    "make",
    "can",
    "like",
    "time",
    "no",
    "just",
    "him",
    "know",
    "take",
    "people",
    "into",
    "year",
    "your",
    "good",
    "some",
    "could",
    "them",
    "see",
    "other",
    "than",
    "then",
    "now",
    "look",
    "only",
    "come",
    "its",
    "over",
    "think",
    "also",
    "back",
    "after",
    "use",
    "two",
    "how",
    "our",
    "work",
    "first",
    "well",
    "way",
    "even",
    "new",
    "want",
    "because",
    "any",
    "these",
    "give",
    "day",
    "most",
    "us",
    "is",
    "are",
    "was",
    "hello",
    "world",
    "hi",
    "please",
    "thanks",
    "yes",
    "model",
    "user",
    "chat",
    "write",
    "story",
    "short",
    "tell",
    "question",
    "answer",
    "help",
    "name",
    "I",
)
# Subwords that attach to the end of words (no leading "▁").
_SUFFIXES: tuple[str, ...] = ("ing", "ed", "er", "es", "ly", "tion", "s", "'s", "n't")
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PUNCTUATION = ".,!?;:'\"()-\n"


def _normal_pieces() -> list[str]:
    pieces: list[str] = ["▁"]
    pieces.extend(_LETTERS)
    pieces.extend(_PUNCTUATION)
    pieces.extend("▁" + ch for ch in _LETTERS)
    for word in _WORDS:
        text = "▁" + word
        pieces.extend(text[:end] for end in range(2, len(text) + 1))
    for suffix in _SUFFIXES:
        pieces.extend(suffix[:end] for end in range(1, len(suffix) + 1))
    # Keep first occurrences only; duplicates would make token->id lookups ambiguous.
    return list(dict.fromkeys(pieces))


def build_vocabulary(
    special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    *,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
) -> tuple[list[str], list[float], list[int]]:
    """Return (tokens, scores, token types) for the tiny SentencePiece-style vocabulary.
    BOS and EOS keep their ids (BOS_ID, EOS_ID) whatever their text, so a model family's own
    markers (DeepSeek's "<｜end▁of▁sentence｜>", Command-R's "<|END_OF_TURN_TOKEN|>") can
    stand in for "<s>" and "</s>"."""
    tokens: list[str] = ["<unk>", bos_token, eos_token]
    types: list[int] = [
        gguf.TokenType.UNKNOWN,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
    ]
    tokens.extend(f"<0x{value:02X}>" for value in range(256))
    types.extend([gguf.TokenType.BYTE] * 256)
    for special in special_tokens:
        if special not in tokens:
            tokens.append(special)
            types.append(gguf.TokenType.CONTROL)
    scores: list[float] = [0.0] * len(tokens)
    seen = set(tokens)
    pieces = [piece for piece in _normal_pieces() if piece not in seen]
    for piece in pieces:
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        # Longer pieces score higher, so the tokenizer prefers whole words over fragments.
        scores.append(-1000.0 + 10.0 * len(piece))
    return tokens, scores, [int(t) for t in types]


def _random(rng: np.random.Generator, shape: tuple[int, ...], *, mean: float = 0.0) -> np.ndarray:
    return rng.normal(mean, 0.02, size=shape).astype(np.float32)


_FILE_TYPES = {
    "f32": gguf.LlamaFileType.ALL_F32,
    "f16": gguf.LlamaFileType.MOSTLY_F16,
    "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
}


def _matrix_writer(weight_type: str) -> Callable[[gguf.GGUFWriter, str, np.ndarray], None]:
    """Adds a weight matrix as f32 (the default), f16 or q8_0 (norms always stay f32)."""
    if weight_type not in _FILE_TYPES:
        raise ValueError(f"weight_type must be one of {sorted(_FILE_TYPES)}")

    def add(writer: gguf.GGUFWriter, name: str, values: np.ndarray) -> None:
        if weight_type == "f16":
            writer.add_tensor(name, values.astype(np.float16))
        elif weight_type == "q8_0":
            q8 = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(values, q8), raw_dtype=q8)
        else:
            writer.add_tensor(name, values)

    return add


def add_tokenizer(
    writer: gguf.GGUFWriter,
    tokens: Sequence[str],
    scores: Sequence[float],
    types: Sequence[int],
    *,
    add_bos: bool = True,
) -> None:
    """The SentencePiece-style tokenizer keys of a vocabulary from build_vocabulary."""
    writer.add_tokenizer_model("llama")
    writer.add_token_list(list(tokens))
    writer.add_token_scores(list(scores))
    writer.add_token_types(list(types))
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_unk_token_id(UNK_ID)
    writer.add_add_bos_token(add_bos)
    writer.add_add_eos_token(False)


def _write_model(
    path: Path,
    *,
    arch: str,
    n_layer: int,
    n_embd: int,
    n_head: int,
    n_head_kv: int,
    n_ff: int,
    context_length: int,
    chat_template: str | None,
    seed: int,
    vocab_only: bool,
    special_tokens: Sequence[str],
    bos_token: str = "<s>",
    eos_token: str = "</s>",
    add_bos: bool = True,
    eot_token: str | None = None,
    eom_token: str | None = None,
    block_count: int | None = None,
    split_count: int | None = None,
    split_max_tensors: int = 0,
    weight_type: str = "f32",
    extra_vocab: int = 0,
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, scores, types = build_vocabulary(
        special_tokens, bos_token=bos_token, eos_token=eos_token
    )
    # Pieces the tokenizer never reaches (no shorter pieces lead to them): a wider output
    # row, as a large vocabulary costs, without changing how text tokenizes.
    tokens += [f"<extra_{i}>" for i in range(extra_vocab)]
    scores += [-10000.0] * extra_vocab
    types += [int(gguf.TokenType.NORMAL)] * extra_vocab
    matrix = _matrix_writer(weight_type)
    head_dim = n_embd // n_head

    writer = gguf.GGUFWriter(path, arch, split_max_tensors=split_max_tensors)
    writer.add_name("tiny-test")
    writer.add_file_type(_FILE_TYPES[weight_type])
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer if block_count is None else block_count)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    add_tokenizer(writer, tokens, scores, types, add_bos=add_bos)
    # End-of-turn / end-of-message ids, as Llama 3 GGUFs carry them (must be special tokens).
    if eot_token is not None:
        writer.add_eot_token_id(tokens.index(eot_token))
    if eom_token is not None:
        writer.add_uint32(gguf.Keys.Tokenizer.EOM_ID, tokens.index(eom_token))
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    if split_count is not None:
        writer.add_uint16("split.no", 0)
        writer.add_uint16("split.count", split_count)

    if not vocab_only:
        rng = np.random.default_rng(seed)
        n_vocab = len(tokens)
        # numpy shapes are ggml's ne reversed: ne {n_embd, n_vocab} is (n_vocab, n_embd).
        matrix(writer, "token_embd.weight", _random(rng, (n_vocab, n_embd)))
        # Norm weights near 1 keep activations in range, so logits are not all equal and
        # greedy decoding produces varied (if meaningless) tokens.
        writer.add_tensor("output_norm.weight", _random(rng, (n_embd,), mean=1.0))
        matrix(writer, "output.weight", _random(rng, (n_vocab, n_embd)))
        q_dim = n_head * head_dim
        kv_dim = n_head_kv * head_dim
        for layer in range(n_layer):
            prefix = f"blk.{layer}"
            writer.add_tensor(f"{prefix}.attn_norm.weight", _random(rng, (n_embd,), mean=1.0))
            matrix(writer, f"{prefix}.attn_q.weight", _random(rng, (q_dim, n_embd)))
            matrix(writer, f"{prefix}.attn_k.weight", _random(rng, (kv_dim, n_embd)))
            matrix(writer, f"{prefix}.attn_v.weight", _random(rng, (kv_dim, n_embd)))
            matrix(writer, f"{prefix}.attn_output.weight", _random(rng, (n_embd, q_dim)))
            writer.add_tensor(f"{prefix}.ffn_norm.weight", _random(rng, (n_embd,), mean=1.0))
            matrix(writer, f"{prefix}.ffn_gate.weight", _random(rng, (n_ff, n_embd)))
            matrix(writer, f"{prefix}.ffn_up.weight", _random(rng, (n_ff, n_embd)))
            matrix(writer, f"{prefix}.ffn_down.weight", _random(rng, (n_embd, n_ff)))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if split_max_tensors:  # llama.cpp's naming: stem-00001-of-0000N.gguf, first part returned
        return writer.format_shard_names(path)[0]
    return path


def build_tiny_model(
    path: Path,
    *,
    arch: str = "llama",
    n_layer: int = 2,
    n_embd: int = 64,
    n_head: int = 4,
    n_head_kv: int = 4,
    n_ff: int = 128,
    context_length: int = 2048,
    chat_template: str | None = None,
    seed: int = 0,
    vocab_only: bool = False,
    special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    split_max_tensors: int = 0,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
    add_bos: bool = True,
    eot_token: str | None = None,
    eom_token: str | None = None,
    weight_type: str = "f32",
    extra_vocab: int = 0,
) -> Path:
    """Write a tiny random-weight GGUF to `path` and return the path.

    With `split_max_tensors`, the model is split as gguf-split does (at most that many
    tensors per file, `stem-0000K-of-0000N.gguf`) and the first part's path is returned.

    With the default `arch="llama"` the file loads in llama-cpp-python. Other architecture
    names reuse llama's tensors under that name's metadata keys: useful for validation and
    prompt-format tests, not for loading.

    `bos_token`/`eos_token` rename BOS and EOS, `add_bos` is `tokenizer.ggml.add_bos_token`
    (Qwen GGUFs set it false), and `eot_token`/`eom_token` (which must be among
    `special_tokens`) become `tokenizer.ggml.eot_token_id`/`eom_token_id`: enough to stand in
    for another model family's tokenizer.

    `weight_type` ("f32", "f16", "q8_0") stores the weight matrices that way (a large random
    model for a memory-bound benchmark); `extra_vocab` adds that many tokens the tokenizer
    never produces, so each output row costs what a large vocabulary's does.
    """
    return _write_model(
        path,
        arch=arch,
        n_layer=n_layer,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        n_ff=n_ff,
        context_length=context_length,
        chat_template=chat_template,
        seed=seed,
        vocab_only=vocab_only,
        special_tokens=special_tokens,
        split_max_tensors=split_max_tensors,
        bos_token=bos_token,
        eos_token=eos_token,
        add_bos=add_bos,
        eot_token=eot_token,
        eom_token=eom_token,
        weight_type=weight_type,
        extra_vocab=extra_vocab,
    )


def _gguf_string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _raw_gguf(n_tensors: int, kvs: Sequence[bytes], tail: bytes = b"") -> bytes:
    """Assemble a GGUF v3 file from pre-encoded key/value records (for hostile shapes that
    GGUFWriter refuses to write)."""
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(kvs)) + b"".join(kvs) + tail


def build_corrupt_variants(dir: Path) -> dict[str, Path]:
    """Write malformed GGUF files into `dir`; return {variant name: path}.

    Beyond the named cases of the design notes it adds "deep_arrays" (ARRAY nested thousands
    deep, which makes gguf-py's reader recurse until RecursionError), "long_string" (a string
    length far beyond the file) and "extra_block" (tensors for a layer index beyond
    block_count, the shape behind llama.cpp's out-of-bounds write).
    """
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    variants: dict[str, Path] = {}

    valid = build_tiny_model(dir / "_valid_source.gguf")
    data = valid.read_bytes()
    valid.unlink()

    truncated = dir / "truncated.gguf"
    truncated.write_bytes(data[: len(data) // 3])
    variants["truncated"] = truncated

    random_file = dir / "random.gguf"
    random_file.write_bytes(np.random.default_rng(1234).bytes(4096))
    variants["random"] = random_file

    not_gguf = dir / "not_gguf.gguf"
    not_gguf.write_text("This is a plain text file that somebody renamed to .gguf.\n" * 20)
    variants["not_gguf"] = not_gguf

    variants["bad_heads"] = build_tiny_model(dir / "bad_heads.gguf", n_head=4, n_head_kv=3)

    # Valid magic and version, absurd tensor count: the integer-overflow shape of
    # CVE-2024-21836. The rest of the header is the real one.
    huge = dir / "huge_counts.gguf"
    huge.write_bytes(data[:8] + struct.pack("<Q", 0x1D1D1D1D1D1D1D1D) + data[16:])
    variants["huge_counts"] = huge

    variants["vocab_only"] = build_tiny_model(dir / "vocab_only.gguf", vocab_only=True)

    empty = dir / "empty.gguf"
    empty.write_bytes(b"")
    variants["empty"] = empty

    arch_kv = _gguf_string("general.architecture") + struct.pack("<I", 8) + _gguf_string("llama")
    depth = 5000
    nested = b"".join(struct.pack("<IQ", 9, 1) for _ in range(depth)) + struct.pack("<IQ", 0, 1)
    nested_kv = _gguf_string("evil.nested") + struct.pack("<I", 9) + nested + b"\x00"
    deep = dir / "deep_arrays.gguf"
    deep.write_bytes(_raw_gguf(1, [arch_kv, nested_kv], tail=b"\x00" * 64))
    variants["deep_arrays"] = deep

    long_kv = _gguf_string("general.architecture") + struct.pack("<I", 8)
    long_kv += struct.pack("<Q", 1 << 40) + b"llama"
    long_string = dir / "long_string.gguf"
    long_string.write_bytes(_raw_gguf(1, [long_kv], tail=b"\x00" * 64))
    variants["long_string"] = long_string

    variants["extra_block"] = _write_model(
        dir / "extra_block.gguf",
        arch="llama",
        n_layer=2,
        n_embd=64,
        n_head=4,
        n_head_kv=4,
        n_ff=128,
        context_length=2048,
        chat_template=None,
        seed=0,
        vocab_only=False,
        special_tokens=DEFAULT_SPECIAL_TOKENS,
        block_count=1,
    )
    return variants
