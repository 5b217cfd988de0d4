"""Chat prompt formats: exact rendering, the prefix property that prompt-cache reuse relies
on, choosing between a model's template and the built-ins, and the template sandbox."""

from __future__ import annotations

import pytest

from inference.prompt_formats import (
    BUILTIN_FORMATS,
    ChatFormat,
    PromptFormatError,
    builtin_format,
    format_for_architecture,
    render_prompt,
    select_format,
    should_add_bos,
)

BOS = {"gemma": "<bos>", "llama3": "<|begin_of_text|>", "mistral": "<s>"}
EOS = {"gemma": "<eos>", "llama3": "<|end_of_text|>", "mistral": "</s>"}

CONVERSATION: list[dict[str, str]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hello there"},
    {"role": "assistant", "content": "Hi! How can I help?"},
    {"role": "user", "content": "Tell me a story\nabout a fox. "},
    {"role": "assistant", "content": " Once upon a time…\n"},
    {"role": "user", "content": "Shorter, please."},
]

# Gemma 3's template as published on Hugging Face (image branches removed).
GEMMA3_HF_TEMPLATE = (
    "{{ bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' -%}\n"
    "    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n"
    "{%- else -%}\n"
    '    {%- set first_user_prefix = "" -%}\n'
    "    {%- set loop_messages = messages -%}\n"
    "{%- endif -%}\n"
    "{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    '        {{ raise_exception("Conversation roles must alternate '
    'user/assistant/user/assistant/...") }}\n'
    "    {%- endif -%}\n"
    "    {%- if (message['role'] == 'assistant') -%}\n"
    '        {%- set role = "model" -%}\n'
    "    {%- else -%}\n"
    "        {%- set role = message['role'] -%}\n"
    "    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n"
    "        {{ message['content'] | trim }}\n"
    "    {%- else -%}\n"
    '        {{ raise_exception("Invalid content type") }}\n'
    "    {%- endif -%}\n"
    "    {{ '<end_of_turn>\n' }}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "    {{'<start_of_turn>model\n'}}\n"
    "{%- endif -%}\n"
)


def _render(fmt: ChatFormat, messages: list[dict[str, str]], **kwargs: bool) -> str:
    return render_prompt(
        fmt,
        messages,
        bos_token=BOS.get(fmt.name, ""),
        eos_token=EOS.get(fmt.name, ""),
        **kwargs,
    )


def test_gemma_renders_the_exact_turn_format() -> None:
    fmt = builtin_format("gemma")
    text = render_prompt(
        fmt,
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Bye"},
        ],
        bos_token="<bos>",
    )
    assert text == (
        "<bos><start_of_turn>user\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n"
        "<start_of_turn>model\n"
    )
    assert fmt.stop[0] == "<end_of_turn>"


def test_gemma_merges_the_system_prompt_into_the_first_user_turn() -> None:
    text = render_prompt(
        builtin_format("gemma"),
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        bos_token="<bos>",
    )
    assert text == "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    assert "system" not in text


def test_builtin_gemma_matches_the_official_template_for_trimmed_content() -> None:
    official = ChatFormat("g", "g", GEMMA3_HF_TEMPLATE, ("<end_of_turn>",), "model")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "More"},
    ]
    ours = render_prompt(builtin_format("gemma"), messages, bos_token="<bos>")
    assert ours == render_prompt(official, messages, bos_token="<bos>")


def test_other_builtins_render_their_markers() -> None:
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert _render(builtin_format("chatml"), messages) == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )
    assert _render(builtin_format("llama3"), messages) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert _render(builtin_format("mistral"), messages) == "<s>[INST] S\n\nU [/INST]"
    assert _render(builtin_format("phi3"), messages) == (
        "<|system|>\nS<|end|>\n<|user|>\nU<|end|>\n<|assistant|>\n"
    )


@pytest.mark.parametrize("name", sorted(BUILTIN_FORMATS))
@pytest.mark.parametrize("with_system", [True, False])
def test_every_builtin_has_the_prefix_property(name: str, with_system: bool) -> None:
    """render(history) + reply + turn end must be a prefix of the next turn's prompt, so
    llama.cpp can reuse the evaluated tokens instead of re-reading the conversation."""
    fmt = builtin_format(name)
    conversation = CONVERSATION if with_system else CONVERSATION[1:]
    for k, message in enumerate(conversation):
        if message["role"] != "assistant":
            continue
        asked = _render(fmt, conversation[:k], add_generation_prompt=True)
        following = _render(fmt, conversation[: k + 2], add_generation_prompt=True)
        evaluated = asked + message["content"] + fmt.stop[0]
        assert following.startswith(evaluated), (name, k)


@pytest.mark.parametrize(
    ("architecture", "expected"),
    [
        ("gemma", "gemma"),
        ("gemma2", "gemma"),
        ("gemma3", "gemma"),
        ("gemma3n", "gemma"),
        ("qwen2", "chatml"),
        ("qwen3", "chatml"),
        ("qwen2moe", "chatml"),
        ("qwen3moe", "chatml"),
        ("phi3", "phi3"),
        ("llama", "chatml"),
        ("some-new-arch", "chatml"),
        (None, "chatml"),
    ],
)
def test_builtin_format_by_architecture(architecture: str | None, expected: str) -> None:
    assert format_for_architecture(architecture).name == expected
    chosen = select_format(architecture, None)
    assert chosen.name == expected and chosen.source == "builtin"


def test_model_template_wins_when_it_works() -> None:
    template = (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    fmt = select_format("llama", template)
    assert fmt.source == "model"
    assert fmt.name == "model-template"
    assert fmt.label == "Model's own template"
    assert fmt.template == template
    assert "<|im_end|>" in fmt.stop
    assert render_prompt(fmt, [{"role": "user", "content": "Hi"}]) == (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_model_template_with_hf_runtime_features_is_accepted() -> None:
    template = (
        "{%- set ns = namespace(n=0) -%}"
        "{%- for m in messages -%}{%- set ns.n = ns.n + 1 -%}"
        "{% generation %}{{ '<|' ~ m.role ~ '|>' ~ m.content ~ '<|end|>' }}{% endgeneration %}"
        "{%- if ns.n > 99 %}{% break %}{% endif -%}"
        "{%- endfor -%}"
        "{{ '<!-- ' ~ strftime_now('%Y') ~ ' ' ~ (messages | tojson) ~ ' -->' }}"
        "{%- if add_generation_prompt %}<|assistant|>{% endif -%}"
    )
    fmt = select_format("phi3", template)
    assert fmt.source == "model"
    text = render_prompt(fmt, [{"role": "user", "content": "é"}])
    assert '"content": "é"' in text  # HF's tojson: no ASCII or HTML escaping
    assert text.endswith("<|assistant|>")


@pytest.mark.parametrize(
    "template",
    [
        "{% for m in messages %}{{ m.content }",  # syntax error
        "{{ raise_exception('System role not supported') }}",
        "no messages at all",  # ignores the conversation
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "   ",
    ],
)
def test_unusable_model_template_falls_back_to_the_builtin(template: str) -> None:
    fmt = select_format("gemma3", template)
    assert fmt.source == "builtin" and fmt.name == "gemma"


def test_real_gemma3_template_is_selected_and_renders_like_the_builtin() -> None:
    fmt = select_format("gemma3", GEMMA3_HF_TEMPLATE)
    assert fmt.source == "model"
    assert fmt.stop[0] == "<end_of_turn>"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ raise_exception.__globals__['__builtins__'] }}",
        "{{ messages.__class__.__base__.__subclasses__() }}",
        "{{ (messages | first).update({'role': 'x'}) }}",
        "{{ 'a' * 100000000 }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ ''.ljust(10 ** 10) }}",
        "{% for i in range(10 ** 7) %}x{% endfor %}",
        "{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
        "{% set ns.s = [ns.s, ns.s] | join %}{% endfor %}",
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s | replace('a', 'aa') %}{% endfor %}",
        "{{ [1] | batch(10 ** 9, 0) | list }}",
    ],
)
def test_hostile_template_is_blocked_not_executed(template: str) -> None:
    fmt = ChatFormat("evil", "evil", template, (), "model")
    with pytest.raises(PromptFormatError) as info:
        render_prompt(fmt, [{"role": "user", "content": "hi"}])
    assert "blocked" in str(info.value) or "too" in str(info.value)


def test_sandbox_error_is_reported_as_blocked() -> None:
    fmt = ChatFormat("evil", "evil", "{{ ''.__class__ }}", (), "model")
    with pytest.raises(PromptFormatError, match="unsafe and was blocked"):
        render_prompt(fmt, [{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("{% if %}", "syntax error"),
        ("{{ raise_exception('Only user and assistant roles') }}", "Only user and assistant"),
        ("{{ 1 + 'a' }}", "failed"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursed"),
        ("{{ messages.nope.deeper }}", "failed"),
    ],
)
def test_template_errors_become_prompt_format_errors(template: str, match: str) -> None:
    fmt = ChatFormat("bad", "bad", template, (), "model")
    with pytest.raises(PromptFormatError, match=match):
        render_prompt(fmt, [{"role": "user", "content": "hi"}])


def test_gemma_rejects_conversations_that_do_not_alternate() -> None:
    with pytest.raises(PromptFormatError, match="alternate"):
        render_prompt(
            builtin_format("gemma"),
            [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        )


def test_unknown_builtin_name() -> None:
    with pytest.raises(PromptFormatError):
        builtin_format("nope")


def test_long_messages_are_not_mistaken_for_a_runaway_template() -> None:
    document = "word " * 400_000  # 2 MB, beyond the fixed per-value limit
    text = render_prompt(builtin_format("chatml"), [{"role": "user", "content": document}])
    assert document in text


def test_should_add_bos_avoids_doubling() -> None:
    gemma = builtin_format("gemma")
    with_bos = render_prompt(gemma, [{"role": "user", "content": "x"}], bos_token="<bos>")
    without = render_prompt(gemma, [{"role": "user", "content": "x"}])
    assert should_add_bos(gemma, with_bos, "<bos>") is False
    assert should_add_bos(gemma, without, "<bos>") is True
    assert should_add_bos(builtin_format("chatml"), "<|im_start|>user\n", "") is True
