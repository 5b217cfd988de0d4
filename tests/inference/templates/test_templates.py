"""Chat prompt formats: exact rendering, the prefix property that prompt-cache reuse relies
on, choosing between a model's template and the built-ins, and the template sandbox."""

from __future__ import annotations

import pytest

from inference.templates import (
    BUILTIN_FORMATS,
    ChatFormat,
    ModelTokens,
    PromptFormatError,
    builtin_format,
    custom_format,
    format_for_architecture,
    format_for_override,
    render_prompt,
    select_format,
    should_add_bos,
)
from tests.support.model_templates import (
    COMMAND_R_TEMPLATE,
    DEEPSEEK_R1_DISTILL_TEMPLATE,
    MISTRAL_V03_TEMPLATE,
    MISTRAL_V03_TOOLS_TEMPLATE,
    PHI3_MINI_TEMPLATE,
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
    assert should_add_bos(gemma, with_bos, "<bos>", True) is False
    assert should_add_bos(gemma, without, "<bos>", True) is True
    assert should_add_bos(builtin_format("chatml"), "<|im_start|>user\n", "", True) is True


def test_should_add_bos_follows_the_models_flag() -> None:
    """Qwen2.5/Qwen3 GGUFs set tokenizer.ggml.add_bos_token false: no BOS in front."""
    chatml = builtin_format("chatml")
    assert should_add_bos(chatml, "<|im_start|>user\n", "<|endoftext|>", False) is False


# --- System prompts a model's template drops or refuses (issue 10, item 10) ---------------

MISTRAL = ModelTokens(bos="<s>", eos="</s>", end_of_turn=("</s>",))
PHI3 = ModelTokens(bos="<s>", eos="<|endoftext|>", end_of_turn=("<|end|>", "<|endoftext|>"))
SYSTEM_AND_USER = [
    {"role": "system", "content": "Answer in French."},
    {"role": "user", "content": "Hello there"},
]


def test_mistral_v03_template_gets_the_system_prompt_folded_into_the_first_turn() -> None:
    """Mistral-7B-Instruct-v0.3's template (as its GGUFs carry it) refuses a system message;
    Hearth used to give such a model ChatML instead of its own [INST] format."""
    fmt = select_format("llama", MISTRAL_V03_TEMPLATE, MISTRAL)
    assert fmt.source == "model"
    assert fmt.label == "Model's own template (system prompt folded into the first message)"
    text = render_prompt(fmt, SYSTEM_AND_USER, bos_token="<s>", eos_token="</s>")
    assert text == "<s>[INST] Answer in French.\n\nHello there [/INST]"


def test_template_that_silently_drops_the_system_prompt_gets_it_folded() -> None:
    """Phi-3-mini's first template renders only user and assistant turns: the probe with a
    system prompt rendered fine, so the system text vanished without a word."""
    fmt = select_format("phi3", PHI3_MINI_TEMPLATE, PHI3)
    assert fmt.source == "model"
    assert fmt.label.endswith("(system prompt folded into the first message)")
    text = render_prompt(fmt, SYSTEM_AND_USER, bos_token="<s>")
    assert text == "<s><|user|>\nAnswer in French.\n\nHello there<|end|>\n<|assistant|>\n"


def test_folded_system_prompt_stays_in_the_first_turn_for_every_turn() -> None:
    """The fold keeps the prefix property: the earlier turns render the same each time."""
    fmt = select_format("phi3", PHI3_MINI_TEMPLATE, PHI3)
    for k, message in enumerate(CONVERSATION):
        if message["role"] != "assistant":
            continue
        asked = render_prompt(fmt, CONVERSATION[:k], bos_token="<s>")
        following = render_prompt(fmt, CONVERSATION[: k + 2], bos_token="<s>")
        assert following.startswith(asked + message["content"] + fmt.stop[0]), k
        assert following.count("You are terse.") == 1


def test_template_that_places_the_system_prompt_itself_is_left_alone() -> None:
    """Mistral v0.3's current template keeps the system text (in the last user turn, as
    mistral-common does): the model's authors chose that, so nothing is folded."""
    fmt = select_format("llama", MISTRAL_V03_TOOLS_TEMPLATE, MISTRAL)
    assert fmt.source == "model" and not fmt.fold_system
    assert fmt.label == "Model's own template"
    text = render_prompt(fmt, SYSTEM_AND_USER, bos_token="<s>", eos_token="</s>")
    assert text == "<s>[INST] Answer in French.\n\nHello there[/INST]"


def test_templates_that_keep_the_system_prompt_are_not_folded() -> None:
    for template in (GEMMA3_HF_TEMPLATE, COMMAND_R_TEMPLATE, DEEPSEEK_R1_DISTILL_TEMPLATE):
        fmt = select_format("llama", template)
        assert fmt.source == "model" and not fmt.fold_system, template[:40]


def test_custom_template_that_drops_the_system_prompt_is_folded_and_says_so() -> None:
    fmt = format_for_override(PHI3_MINI_TEMPLATE, "llama", None)
    assert fmt.name == "custom-template"
    assert fmt.label == "Custom template (system prompt folded into the first message)"
    assert "Answer in French." in render_prompt(fmt, SYSTEM_AND_USER)


def test_custom_template_that_raises_keeps_its_own_error() -> None:
    with pytest.raises(PromptFormatError, match="Only user and assistant"):
        custom_format("{{ raise_exception('Only user and assistant roles') }}")


# --- Stop strings from the model's own end-of-turn tokens (issue 10, item 11) --------------

DEEPSEEK = ModelTokens(
    bos="<｜begin▁of▁sentence｜>",
    eos="<｜end▁of▁sentence｜>",
    end_of_turn=("<｜end▁of▁sentence｜>",),
)
COMMAND_R = ModelTokens(
    bos="<BOS_TOKEN>", eos="<|END_OF_TURN_TOKEN|>", end_of_turn=("<|END_OF_TURN_TOKEN|>",)
)
QWEN = ModelTokens(bos="<|endoftext|>", eos="<|im_end|>", end_of_turn=("<|im_end|>",))


@pytest.mark.parametrize(
    ("template", "tokens", "stops"),
    [
        (MISTRAL_V03_TEMPLATE, MISTRAL, ("</s>",)),
        (MISTRAL_V03_TOOLS_TEMPLATE, MISTRAL, ("</s>",)),
        (DEEPSEEK_R1_DISTILL_TEMPLATE, DEEPSEEK, ("<｜end▁of▁sentence｜>",)),
        (COMMAND_R_TEMPLATE, COMMAND_R, ("<|END_OF_TURN_TOKEN|>",)),
        (PHI3_MINI_TEMPLATE, PHI3, ("<|end|>", "<|endoftext|>")),
    ],
    ids=["mistral-v0.3", "mistral-v0.3-tools", "deepseek-r1-distill", "command-r", "phi-3-mini"],
)
def test_stop_strings_are_the_models_own_end_of_turn_tokens(
    template: str, tokens: ModelTokens, stops: tuple[str, ...]
) -> None:
    """These used to get ChatML's <|im_end|> and <|endoftext|> (their architectures have no
    built-in format, and their templates name none of the markers Hearth knew)."""
    fmt = select_format("qwen2" if tokens is DEEPSEEK else "llama", template, tokens)
    assert fmt.source == "model"
    assert fmt.stop == stops
    assert "<|im_end|>" not in fmt.stop


def test_a_chatml_model_keeps_im_end() -> None:
    template = (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    assert select_format("qwen2", template, QWEN).stop == ("<|im_end|>",)
    assert select_format("qwen2", None, QWEN).stop == ("<|im_end|>",)
    assert select_format("qwen2", template).stop[0] == "<|im_end|>"  # no model loaded yet


def test_builtin_format_closes_turns_its_way_and_adds_the_models_end_tokens() -> None:
    """A Mistral GGUF without a template gets ChatML turns: <|im_end|> closes them, and its
    own </s> ends generation; ChatML's guess at an EOS (<|endoftext|>) is not used."""
    assert select_format("llama", None, MISTRAL).stop == ("<|im_end|>", "</s>")
    assert format_for_override("mistral", "llama", None, MISTRAL).stop == ("</s>",)
    gemma = ModelTokens("<bos>", "<eos>", ("<end_of_turn>", "<eos>"))
    assert format_for_override("auto", "gemma3", None, gemma).stop == ("<end_of_turn>", "<eos>")
