from __future__ import annotations

import pytest

from app.models.filenames import group_split_files, quantization_from_name, split_name


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("model.IQ3_XS.gguf", "IQ3_XS"),
        ("model-IQ3_XXS.gguf", "IQ3_XXS"),
        ("qwen2.5-7b-instruct-f16.gguf", "F16"),
        ("phi-3-mini-q8_0.gguf", "Q8_0"),
        ("gemma-3-270m-it-BF16-00001-of-00002.gguf", "BF16"),
        ("model-UD-Q4_K_XL.gguf", "Q4_K_XL"),
        ("plain-model.gguf", None),
    ],
)
def test_quantization_from_name(name: str, label: str | None) -> None:
    assert quantization_from_name(name) == label


def test_split_name() -> None:
    split = split_name("big-Q4_K_M-00002-of-00003.gguf")
    assert split is not None and (split.stem, split.part, split.total) == ("big-Q4_K_M", 2, 3)
    assert split_name("big-Q4_K_M.gguf") is None
    assert split_name("bad-00004-of-00003.gguf") is None


def test_group_split_files_makes_one_model_of_the_parts() -> None:
    groups = group_split_files(
        [
            "a/big-00002-of-00002.gguf",
            "a/small.gguf",
            "a/big-00001-of-00002.gguf",
            "a/other-00001-of-00003.gguf",
        ]
    )
    by_first = {g.first: g for g in groups}
    assert by_first["a/big-00001-of-00002.gguf"].files == (
        "a/big-00001-of-00002.gguf",
        "a/big-00002-of-00002.gguf",
    )
    assert by_first["a/big-00001-of-00002.gguf"].complete
    assert by_first["a/small.gguf"].complete
    assert not by_first["a/other-00001-of-00003.gguf"].complete
    assert len(groups) == 3
