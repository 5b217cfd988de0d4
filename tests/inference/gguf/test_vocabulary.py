"""A draft model must share the main model's vocabulary (issue 13): read from the headers,
refused with a message naming the difference."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inference.gguf import ModelFileError, vocabulary
from inference.gguf.vocabulary import Vocabulary, read_vocabulary, vocabulary_mismatch
from tests.support.tiny_gguf import DEFAULT_SPECIAL_TOKENS, build_tiny_model


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vocab")
    renamed = tuple(t.replace("<|im_end|>", "<|im_stop|>") for t in DEFAULT_SPECIAL_TOKENS)
    return {
        "main": build_tiny_model(folder / "main.gguf", seed=0),
        "sibling": build_tiny_model(folder / "sibling.gguf", seed=7, n_layer=1, n_embd=32),
        "wider": build_tiny_model(folder / "wider.gguf", extra_vocab=5),
        "renamed": build_tiny_model(folder / "renamed.gguf", special_tokens=renamed),
    }


def test_same_vocabulary_in_another_model_is_accepted(models: dict[str, Path]) -> None:
    assert vocabulary_mismatch(models["main"], models["sibling"]) is None
    assert vocabulary_mismatch(models["main"], models["main"]) is None
    vocab = read_vocabulary(models["main"])
    assert vocab.tokenizer == "llama" and vocab.size > 300
    assert (vocab.bos_id, vocab.eos_id) == (1, 2)


def test_another_size_is_named(models: dict[str, Path]) -> None:
    main, wider = read_vocabulary(models["main"]).size, read_vocabulary(models["wider"]).size
    message = vocabulary_mismatch(models["main"], models["wider"])
    assert message == (
        f"draft model wider.gguf has a vocabulary of {wider:,} tokens, main.gguf has "
        f"{main:,}: a draft model must share the main model's vocabulary"
    )


def test_the_first_differing_token_is_named(models: dict[str, Path]) -> None:
    message = vocabulary_mismatch(models["main"], models["renamed"])
    assert message is not None
    index = 3 + 256 + DEFAULT_SPECIAL_TOKENS.index("<|im_end|>")
    assert f"at id {index} ('<|im_stop|>' vs '<|im_end|>')" in message
    assert message.startswith("draft model renamed.gguf's tokens differ from main.gguf's")


def test_a_missing_or_corrupt_file_raises_a_plain_message(
    models: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ModelFileError, match="could not be found"):
        vocabulary_mismatch(models["main"], tmp_path / "gone.gguf")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(models["main"].read_bytes()[:2000])
    with pytest.raises(ModelFileError, match="incomplete"):
        vocabulary_mismatch(models["main"], broken)


def test_other_bos_or_eos_ids_are_named(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tiny builder keeps BOS/EOS at ids 1/2; the headers' other fields are real.
    real = read_vocabulary
    ids = {"main.gguf": (1, 2), "sibling.gguf": (1, 3)}

    def patched(path: Path) -> Vocabulary:
        vocab = real(path)
        bos, eos = ids[path.name]
        return replace(vocab, bos_id=bos, eos_id=eos)

    monkeypatch.setattr(vocabulary, "read_vocabulary", patched)
    message = vocabulary_mismatch(models["main"], models["sibling"])
    assert message == (
        "draft model sibling.gguf ends a text with token id 3, main.gguf with 2: "
        "a draft model must share the main model's vocabulary"
    )
    ids["sibling.gguf"] = (None, 2)  # type: ignore[assignment]
    message = vocabulary_mismatch(models["main"], models["sibling"])
    assert message is not None and "begins a text with token id none, main.gguf with 1" in message
