"""The tiny random-weight GGUF fixture really loads and generates in llama.cpp.

llama.cpp is only ever imported in a child process here: it may abort the process on a bad
file, and the test process must survive that.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.tiny_gguf import build_tiny_model, build_vocabulary

_LOAD_AND_GENERATE = r"""
import json, sys, time
start = time.perf_counter()
from llama_cpp import Llama
imported = time.perf_counter()
llm = Llama(model_path=sys.argv[1], n_ctx=512, verbose=False, seed=0)
loaded = time.perf_counter()
tokens = llm.tokenize(b"hello world")
pieces = [llm.detokenize([t]).decode("utf-8", "replace") for t in tokens]
out = llm.create_completion("hello world", max_tokens=8, temperature=0.0)
done = time.perf_counter()
print(json.dumps({
    "tokens": tokens,
    "pieces": pieces,
    "n_vocab": llm.n_vocab(),
    "completion_tokens": out["usage"]["completion_tokens"],
    "text": out["choices"][0]["text"],
    "import_s": imported - start,
    "load_s": loaded - imported,
    "generate_s": done - loaded,
}))
"""


def _run_in_child(model: Path) -> dict[str, object]:
    pytest.importorskip("llama_cpp")  # find_spec only imports the package metadata lazily
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_GENERATE, str(model)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_vocabulary_is_well_formed() -> None:
    tokens, scores, types = build_vocabulary()
    assert len(tokens) == len(scores) == len(types)
    assert len(set(tokens)) == len(tokens)
    assert tokens[:3] == ["<unk>", "<s>", "</s>"]
    assert tokens[3] == "<0x00>" and tokens[258] == "<0xFF>"
    assert {"<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>"} <= set(tokens)
    assert "▁hello" in tokens and "▁world" in tokens
    assert 300 <= len(tokens) - 259 - 4 <= 1000  # "a few hundred" normal pieces


def test_tiny_model_loads_and_generates_in_llama_cpp(tmp_path: Path) -> None:
    start = time.perf_counter()
    model = build_tiny_model(tmp_path / "tiny.gguf")
    built = time.perf_counter()
    result = _run_in_child(model)
    print(
        f"\ntiny model: {model.stat().st_size / 1e3:.0f} KB, build {(built - start) * 1e3:.0f} ms,"
        f" child import {float(result['import_s']) * 1e3:.0f} ms,"
        f" load {float(result['load_s']) * 1e3:.1f} ms,"
        f" generate 8 tokens {float(result['generate_s']) * 1e3:.1f} ms"
    )
    assert result["n_vocab"] == len(build_vocabulary()[0])
    # BOS, then one piece per word: the vocabulary tokenizes English sensibly.
    assert result["tokens"][0] == 1
    assert result["pieces"][1:] == [" hello", " world"]
    assert result["completion_tokens"] == 8


def test_seeded_builds_are_identical(tmp_path: Path) -> None:
    a = build_tiny_model(tmp_path / "a.gguf", seed=7)
    b = build_tiny_model(tmp_path / "b.gguf", seed=7)
    c = build_tiny_model(tmp_path / "c.gguf", seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_vocab_only_has_no_tensors(tmp_path: Path) -> None:
    from inference.gguf import ModelFileError, inspect_gguf

    model = build_tiny_model(tmp_path / "vocab.gguf", vocab_only=True)
    assert model.stat().st_size < 64_000
    with pytest.raises(ModelFileError, match="vocabulary"):
        inspect_gguf(model)
