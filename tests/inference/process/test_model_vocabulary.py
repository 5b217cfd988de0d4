"""What a model's GGUF says about its prompts, followed end to end through the real engine:
whether to put BOS in front (tokenizer.ggml.add_bos_token), where a system prompt goes when
the model's template has no place for one, and which strings end a reply (the model's own
end-of-turn tokens). Tiny GGUFs carry each family's template and special tokens; the
engine's request log shows exactly what the model was given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inference.process.request_log import ENV as REQUEST_LOG_ENV
from inference.protocol import ChatMessage, EngineSettings, Sampling
from inference.sync_client import SyncEngine
from tests.support.model_templates import (
    CHATML_TEMPLATE,
    COMMAND_R_TEMPLATE,
    COMMAND_R_TOKENS,
    DEEPSEEK_R1_DISTILL_TEMPLATE,
    DEEPSEEK_TOKENS,
    MISTRAL_TOKENS,
    MISTRAL_V03_TEMPLATE,
    QWEN_TOKENS,
)
from tests.support.tiny_gguf import build_tiny_model

GREEDY = Sampling(temperature=0.0, top_k=1, seed=1)


@pytest.fixture
def request_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine started in this test keeps the prompt text of each request."""
    monkeypatch.setenv(REQUEST_LOG_ENV, str(tmp_path / "requests.jsonl"))


def _prompts(engine: SyncEngine) -> list[str]:
    """The prompts the engine evaluated, as text, spaces removed: the tiny SentencePiece
    vocabulary puts a word-start space before each separately tokenized piece, which says
    nothing about the template."""
    return [(r.prompt or "").replace(" ", "") for r in engine.request_log() if r.prompt]


@pytest.mark.usefixtures("request_log")
@pytest.mark.parametrize(
    ("tokens", "bos"),
    [(QWEN_TOKENS, ""), ({"special_tokens": ("<|im_start|>", "<|im_end|>")}, "<s>")],
    ids=["add_bos_false", "add_bos_true"],
)
def test_bos_follows_the_models_add_bos_flag(
    tmp_path: Path, tokens: dict[str, Any], bos: str
) -> None:
    """Qwen2.5/Qwen3 GGUFs set tokenizer.ggml.add_bos_token false; Hearth used to put their
    BOS (<|endoftext|>) in front of every chat prompt anyway."""
    model = build_tiny_model(tmp_path / "m.gguf", chat_template=CHATML_TEMPLATE, **tokens)
    with SyncEngine.start(EngineSettings(model_path=str(model), n_ctx=512)) as engine:
        engine.chat([ChatMessage("user", "hello")], max_tokens=2, sampling=GREEDY)
        engine.complete("hello world", max_tokens=2, sampling=GREEDY)
        chat, completion = _prompts(engine)
    assert chat == f"{bos}<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
    assert completion == f"{bos}helloworld"  # llama.cpp's own tokenizer, same rule


@pytest.mark.usefixtures("request_log")
def test_system_prompt_reaches_a_model_whose_template_refuses_it(tmp_path: Path) -> None:
    """Mistral-7B-Instruct-v0.3's GGUF template refuses a system message; Hearth gave the
    model ChatML instead. Now its own [INST] format is used with the system prompt in the
    first user turn, and the format shown says so."""
    model = build_tiny_model(
        tmp_path / "mistral.gguf", chat_template=MISTRAL_V03_TEMPLATE, **MISTRAL_TOKENS
    )
    with SyncEngine.start(EngineSettings(model_path=str(model), n_ctx=512)) as engine:
        info = engine.info
        messages = [ChatMessage("system", "Answer in French."), ChatMessage("user", "hello")]
        engine.chat(messages, max_tokens=2, sampling=GREEDY)
        (prompt,) = _prompts(engine)
    assert info is not None
    assert info.chat_format_label == (
        "Model's own template (system prompt folded into the first message)"
    )
    assert prompt == "<s>[INST]AnswerinFrench.\n\nhello[/INST]"


LLAMA3_HEADERS_TOKENS: dict[str, Any] = {
    "special_tokens": ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>"),
    "bos_token": "<|begin_of_text|>",
    "eos_token": "<|end_of_text|>",
    "eot_token": "<|eot_id|>",
    "eom_token": "<|eom_id|>",
}


def test_stop_strings_are_the_models_own_end_of_turn_tokens(tmp_path: Path) -> None:
    """Mistral, DeepSeek-R1-Distill and Command-R used to get ChatML's <|im_end|> and
    <|endoftext|>; a ChatML model keeps <|im_end|>."""
    cases: list[tuple[str, str | None, dict[str, Any], str, tuple[str, ...]]] = [
        ("mistral", MISTRAL_V03_TEMPLATE, MISTRAL_TOKENS, "auto", ("</s>",)),
        (
            "deepseek",
            DEEPSEEK_R1_DISTILL_TEMPLATE,
            DEEPSEEK_TOKENS,
            "auto",
            ("<｜end▁of▁sentence｜>",),
        ),
        ("command-r", COMMAND_R_TEMPLATE, COMMAND_R_TOKENS, "auto", ("<|END_OF_TURN_TOKEN|>",)),
        ("qwen", CHATML_TEMPLATE, QWEN_TOKENS, "auto", ("<|im_end|>",)),
        # No template: the built-in format closes the turn, the model's tokens end it.
        ("mistral-bare", None, MISTRAL_TOKENS, "auto", ("<|im_end|>", "</s>")),
        (
            "llama3",
            None,
            LLAMA3_HEADERS_TOKENS,
            "llama3",
            ("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"),
        ),
    ]
    stops: dict[str, tuple[str, ...]] = {}
    expected: dict[str, tuple[str, ...]] = {}
    engine: SyncEngine | None = None
    try:
        for name, template, tokens, chat_format, wanted in cases:
            model = build_tiny_model(tmp_path / f"{name}.gguf", chat_template=template, **tokens)
            settings = EngineSettings(model_path=str(model), n_ctx=256, chat_format=chat_format)
            if engine is None:
                engine = SyncEngine.start(settings)
            else:
                engine.load(settings)
            assert engine.info is not None
            stops[name] = engine.info.chat_format_stops
            expected[name] = wanted
    finally:
        if engine is not None:
            engine.close()
    assert stops == expected
