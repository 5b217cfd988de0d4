"""Pre-flight GGUF validation: every malformed file is refused with a message a user can act
on, before llama.cpp (which aborts or worse on some of them) ever opens it."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from inference.gguf import GGUFInfo, ModelFileError, inspect_gguf
from tests.support.tiny_gguf import build_corrupt_variants, build_tiny_model


@pytest.fixture(scope="module")
def corrupt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corrupt_variants(tmp_path_factory.mktemp("corrupt"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny") / "tiny.gguf",
        chat_template="{{ messages }}",
        context_length=4096,
    )


EXPECTED_MESSAGES: dict[str, str] = {
    "truncated": "incomplete",
    "random": "not a GGUF model",
    "not_gguf": "does not start with the GGUF signature",
    "bad_heads": "head counts do not fit together",
    "huge_counts": "tensors, more than",
    "vocab_only": "only a tokenizer vocabulary and no model weights",
    "empty": "empty",
    "deep_arrays": "nests arrays too deeply",
    "long_string": "incomplete",
    "extra_block": "layer",
}


@pytest.mark.parametrize("variant", sorted(EXPECTED_MESSAGES))
def test_every_corrupt_variant_is_refused_with_a_clear_message(
    corrupt: dict[str, Path], variant: str
) -> None:
    with pytest.raises(ModelFileError) as info:
        inspect_gguf(corrupt[variant])
    message = str(info.value)
    print(f"{variant}: {message}")
    assert EXPECTED_MESSAGES[variant] in message
    assert message.endswith((".", ")")) or corrupt[variant].name in message


def test_all_named_variants_exist(corrupt: dict[str, Path]) -> None:
    assert set(EXPECTED_MESSAGES) <= set(corrupt)
    assert corrupt["empty"].stat().st_size == 0
    assert corrupt["random"].stat().st_size == 4096


def test_truncated_message_gives_both_sizes(corrupt: dict[str, Path]) -> None:
    with pytest.raises(ModelFileError, match=r"it is [\d.]+ KB but its header describes"):
        inspect_gguf(corrupt["truncated"])


def test_bad_heads_is_rejected_before_llama_cpp_could_abort(corrupt: dict[str, Path]) -> None:
    with pytest.raises(ModelFileError, match="4 heads cannot be shared by 3"):
        inspect_gguf(corrupt["bad_heads"])


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelFileError, match="could not be found") as info:
        inspect_gguf(missing)
    assert str(missing) in str(info.value)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="folder"):
        inspect_gguf(tmp_path)


def _patched(source: Path, target: Path, offset: int, data: bytes) -> Path:
    raw = bytearray(source.read_bytes())
    raw[offset : offset + len(data)] = data
    target.write_bytes(bytes(raw))
    return target


@pytest.mark.parametrize(
    ("version", "match"),
    [(1, "version 1"), (4, "version 4"), (0x03000000, "big-endian")],
)
def test_unsupported_versions(tiny: Path, tmp_path: Path, version: int, match: str) -> None:
    bad = _patched(tiny, tmp_path / "v.gguf", 4, struct.pack("<I", version))
    with pytest.raises(ModelFileError, match=match):
        inspect_gguf(bad)


def test_huge_kv_count_is_refused(tiny: Path, tmp_path: Path) -> None:
    bad = _patched(tiny, tmp_path / "kv.gguf", 16, struct.pack("<Q", 1 << 62))
    with pytest.raises(ModelFileError, match="metadata entries"):
        inspect_gguf(bad)


def test_tiny_model_passes_with_correct_fields(tiny: Path) -> None:
    info = inspect_gguf(tiny)
    assert isinstance(info, GGUFInfo)
    assert info.path == tiny
    assert info.file_size == tiny.stat().st_size
    assert info.version == 3
    assert info.n_tensors == 3 + 2 * 9
    assert info.architecture == "llama"
    assert info.name == "tiny-test"
    assert info.context_length == 4096
    assert info.block_count == 2
    assert info.chat_template == "{{ messages }}"
    assert info.quantization == "F32"
    assert info.bos_token == "<s>"
    assert info.eos_token == "</s>"
    assert info.metadata["llama.attention.head_count"] == 4
    assert info.metadata["tokenizer.ggml.add_bos_token"] is True
    # Arrays (the vocabulary) are not copied into the metadata.
    assert "tokenizer.ggml.tokens" not in info.metadata
    assert all(isinstance(v, str | int | float | bool) for v in info.metadata.values())


def test_grouped_query_attention_is_accepted(tmp_path: Path) -> None:
    info = inspect_gguf(build_tiny_model(tmp_path / "gqa.gguf", n_head=4, n_head_kv=2))
    assert info.metadata["llama.attention.head_count_kv"] == 2


def test_embedding_not_divisible_by_heads_is_refused(tmp_path: Path) -> None:
    # 64 / 3 heads: llama would assert; the tensors still match the declared shapes.
    bad = build_tiny_model(tmp_path / "split.gguf", n_embd=64, n_head=3, n_head_kv=3)
    with pytest.raises(ModelFileError, match="cannot be split evenly"):
        inspect_gguf(bad)


@pytest.mark.slow
def test_real_gemma_model_validates_quickly(gemma_model: Path) -> None:
    start = time.perf_counter()
    info = inspect_gguf(gemma_model)
    elapsed = time.perf_counter() - start
    print(
        f"inspect_gguf on the real Gemma 3 270M ({info.file_size / 1e6:.0f} MB): "
        f"{elapsed * 1000:.1f} ms"
    )
    assert info.architecture == "gemma3"
    assert info.name == "Gemma 3 270m"
    assert info.quantization == "Q4_K_M"
    # This conversion ships without tokenizer.chat_template: the built-in Gemma format is used.
    assert info.chat_template is None
    assert info.context_length == 32768
    assert info.block_count == 18
    assert info.n_tensors == 236
    assert info.bos_token == "<bos>"
    assert info.eos_token == "<eos>"
    # Gemma 3 sets key_length (256) independently of embedding_length / head_count (160).
    assert info.metadata["gemma3.attention.key_length"] == 256
    assert info.metadata["gemma3.attention.head_count"] == 4
    assert info.metadata["gemma3.attention.head_count_kv"] == 1


def test_first_part_of_a_split_model_may_hold_only_some_layers(tmp_path: Path) -> None:
    from tests.support.tiny_gguf import _write_model

    common = dict(
        arch="llama",
        n_layer=2,
        n_embd=64,
        n_head=4,
        n_head_kv=4,
        n_ff=128,
        context_length=512,
        chat_template=None,
        seed=0,
        vocab_only=False,
        special_tokens=(),
        block_count=4,
    )
    part = _write_model(tmp_path / "m-00001-of-00002.gguf", split_count=2, **common)
    assert inspect_gguf(part).block_count == 4
    whole = _write_model(tmp_path / "m.gguf", **common)
    with pytest.raises(ModelFileError, match="contains weights for only 2"):
        inspect_gguf(whole)
