"""Chat prompt formats: the format record, the built-in formats and which architecture uses
which.

Prefix property (prompt-cache reuse): for every built-in format,

    render(msgs[:k], add_generation_prompt=True) + reply + fmt.stop[0]

is an exact prefix of `render(msgs[:k] + [reply, next_user])`, provided the caller passes the
same bos/eos strings each time. llama.cpp reuses the longest common token prefix of the live
context, so a follow-up turn then only evaluates the new text. The built-ins therefore never
trim or otherwise rewrite message content (Gemma's and Llama 3's official templates trim,
which breaks the property whenever a reply ends in whitespace); strip user input before
storing it instead. `fmt.stop[0]` is the string that closes an assistant turn. Models' own
templates carry no such guarantee (some rewrite earlier turns, e.g. dropping reasoning).

Used by both the GUI and the engine process: imports neither Qt nor llama_cpp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal


class PromptFormatError(Exception):
    """A chat template could not be compiled or rendered (or was blocked by the sandbox)."""


@dataclass(frozen=True)
class ChatFormat:
    """A chat prompt format. `stop[0]` closes an assistant turn; all of `stop` are passed to
    the sampler as stop strings.

    `fold_system`: the template drops or refuses a system message, so render_prompt moves the
    system text into the first user turn before rendering (what Mistral advises for its
    models without a system role, and where Gemma's own template puts it) instead of letting
    it vanish."""

    name: str
    label: str
    template: str
    stop: tuple[str, ...]
    source: Literal["builtin", "model"]
    fold_system: bool = False


@dataclass(frozen=True)
class ModelTokens:
    """A loaded model's special tokens as text, as its template writes them.

    `end_of_turn` holds the texts of the model's own end-of-generation tokens, the ones its
    GGUF names (tokenizer.ggml.eot_token_id, eom_token_id, eos_token_id, as llama.cpp
    resolves them), most specific first. Empty when unknown (a template checked before any
    model is loaded)."""

    bos: str = ""
    eos: str = ""
    end_of_turn: tuple[str, ...] = ()


# --- Built-in templates -------------------------------------------------------------------
# Written for trim_blocks/lstrip_blocks with explicit `-` markers, so every byte of output is
# an expression: what you see in the string literals is exactly what the model sees.

_GEMMA = (
    "{{- bos_token -}}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{- raise_exception('Gemma conversations must alternate user and assistant turns, "
    "starting with the user.') -}}"
    "{%- endif -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{- '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') -}}"
    "{{- message['content'] + '<end_of_turn>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}"
)

_CHATML = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ('system', 'user', 'assistant') -%}"
    "{{- raise_exception('Unknown role: ' + message['role']) -}}"
    "{%- endif -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

_LLAMA3 = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ('system', 'user', 'assistant') -%}"
    "{{- raise_exception('Unknown role: ' + message['role']) -}}"
    "{%- endif -%}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' -}}"
    "{{- message['content'] + '<|eot_id|>' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}"
    "{%- endif -%}"
)

# Mistral's [INST] format has no system role: the system prompt joins the first user turn.
# The generation prompt is implicit (the model answers after "[/INST]").
_MISTRAL = (
    "{{- bos_token -}}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set system = none -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{%- if loop.first and system is not none -%}"
    "{{- '[INST] ' + system + '\\n\\n' + message['content'] + ' [/INST]' -}}"
    "{%- else -%}"
    "{{- '[INST] ' + message['content'] + ' [/INST]' -}}"
    "{%- endif -%}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- message['content'] + (eos_token or '</s>') -}}"
    "{%- else -%}"
    "{{- raise_exception('Mistral conversations have only user and assistant turns.') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
)

_PHI3 = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ('system', 'user', 'assistant') -%}"
    "{{- raise_exception('Unknown role: ' + message['role']) -}}"
    "{%- endif -%}"
    "{{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"
)

BUILTIN_FORMATS: Mapping[str, ChatFormat] = {
    fmt.name: fmt
    for fmt in (
        ChatFormat(
            "gemma", "Gemma turns (built-in)", _GEMMA, ("<end_of_turn>", "<eos>"), "builtin"
        ),
        ChatFormat(
            "chatml", "ChatML (built-in)", _CHATML, ("<|im_end|>", "<|endoftext|>"), "builtin"
        ),
        ChatFormat(
            "llama3",
            "Llama 3 headers (built-in)",
            _LLAMA3,
            ("<|eot_id|>", "<|end_of_text|>"),
            "builtin",
        ),
        ChatFormat("mistral", "Mistral [INST] (built-in)", _MISTRAL, ("</s>",), "builtin"),
        ChatFormat("phi3", "Phi-3 (built-in)", _PHI3, ("<|end|>", "<|endoftext|>"), "builtin"),
    )
}

# general.architecture -> built-in format. "llama" is deliberately absent: that architecture
# covers Llama 2, Llama 3, Mistral 7B, TinyLlama and many fine-tunes with different formats,
# and the vocabulary decides which one works. Real Llama 3 GGUFs carry their own template
# (which wins); without one, ChatML's plain-text markers are the most broadly understood
# fallback, so "llama" falls through to the default like any unknown architecture.
ARCHITECTURE_FORMATS: Mapping[str, str] = {
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "gemma3n": "gemma",
    "qwen2": "chatml",
    "qwen3": "chatml",
    "qwen2moe": "chatml",
    "qwen3moe": "chatml",
    "phi3": "phi3",
}
DEFAULT_FORMAT = "chatml"

MODEL_TEMPLATE_NAME = "model-template"
MODEL_TEMPLATE_LABEL = "Model's own template"
CUSTOM_TEMPLATE_NAME = "custom-template"
CUSTOM_TEMPLATE_LABEL = "Custom template"
AUTO_FORMAT = "auto"
# Appended to a template's label wherever the format in use is shown, so a user whose system
# prompt reaches the model differently from the template's own rules can see why.
FOLDED_SYSTEM_NOTE = " (system prompt folded into the first message)"


def builtin_format(name: str) -> ChatFormat:
    """The built-in format called `name` ("gemma", "chatml", "llama3", "mistral", "phi3")."""
    try:
        return BUILTIN_FORMATS[name]
    except KeyError:
        raise PromptFormatError(f"There is no built-in chat format called {name!r}.") from None


def format_for_architecture(architecture: str | None) -> ChatFormat:
    """The built-in format for a GGUF `general.architecture`; ChatML when unknown."""
    key = (architecture or "").strip().lower()
    return BUILTIN_FORMATS[ARCHITECTURE_FORMATS.get(key, DEFAULT_FORMAT)]
