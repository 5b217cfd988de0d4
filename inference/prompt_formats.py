"""Choosing and rendering the chat prompt format of a model.

A GGUF may carry its own Jinja chat template (`tokenizer.chat_template`). That template is
untrusted input: rendering it without a sandbox is CVE-2024-34359 (code execution from a model
file). Every template here, built-in or not, is rendered only through a hardened
`ImmutableSandboxedEnvironment`, with the globals Hugging Face's chat-template runtime provides
(`raise_exception`, `strftime_now`, a JSON `tojson`) and with limits on output size, string
repetition, format widths and the number of operations.

Prefix property (prompt-cache reuse): for every built-in format,

    render(msgs[:k], add_generation_prompt=True) + reply + fmt.stop[0]

is an exact prefix of `render(msgs[:k] + [reply, next_user])`, provided the caller passes the
same bos/eos strings each time. llama.cpp reuses the longest common token prefix of the live
context, so a follow-up turn then only evaluates the new text. The built-ins therefore never
trim or otherwise rewrite message content (Gemma's and Llama 3's official templates trim,
which breaks the property whenever a reply ends in whitespace); strip user input before
storing it instead. `fmt.stop[0]` is the string that closes an assistant turn. Models' own
templates carry no such guarantee (some rewrite earlier turns, e.g. dropping reasoning).

A model's template must keep every user and system text of a probe conversation. One that
drops or refuses the system message (Mistral-7B-Instruct-v0.3's, Phi-3-mini's first one) is
used with the system text folded into the first user turn, and its label says so. Stop
strings come from the loaded model (ModelTokens): the text the template writes after a reply,
then the model's own end-of-turn tokens, never another family's markers.

Used by both the GUI and the engine process: imports neither Qt nor llama_cpp. Rendering is
thread-safe.
"""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

__all__ = [
    "ARCHITECTURE_FORMATS",
    "BUILTIN_FORMATS",
    "ChatFormat",
    "ModelTokens",
    "PromptFormatError",
    "builtin_format",
    "format_for_architecture",
    "format_for_override",
    "render_prompt",
    "select_format",
    "should_add_bos",
]

# Rendered prompts beyond this (plus twice the message text) mean a runaway template.
MAX_TEMPLATE_OVERHEAD_CHARS = 1_000_000
# Any single string/list a template builds (raised to the prompt size limit of a render).
MAX_VALUE_SIZE = 1_000_000
# Attribute/item accesses, calls and operator uses per render.
MAX_OPERATIONS = 1_000_000
MAX_RANGE = 10_000
MAX_FORMAT_WIDTH = 999
MAX_TEMPLATE_SOURCE_CHARS = 256_000
_MAX_INT_BITS = 100_000


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

# Turn-closing markers recognised inside a model's template, in preference order; they become
# that format's stop strings.
_KNOWN_TURN_ENDS: tuple[str, ...] = (
    "<end_of_turn>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "</s>",
)


# --- Sandbox ------------------------------------------------------------------------------


@dataclass
class _Budget:
    """Limits of one render (a template may only build values up to the size of the prompt
    it is allowed to produce)."""

    operations: int
    max_value: int


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "hearth_template_budget", default=None
)

_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_DIGITS = re.compile(r"\d+")


def _tick() -> None:
    """Charge one operation against the running render's budget (catches runaway loops that
    touch data; see MAX_OPERATIONS)."""
    budget = _budget.get()
    if budget is not None:
        budget.operations -= 1
        if budget.operations < 0:
            raise SecurityError("the chat template does too much work")


def _check_percent_format(text: str) -> None:
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*" or (part and int(part) > MAX_FORMAT_WIDTH):
                raise SecurityError("format width too large")


def _check_brace_format(text: str) -> None:
    for match in _BRACE_SPEC.finditer(text):
        if any(int(d) > MAX_FORMAT_WIDTH for d in _DIGITS.findall(match.group(1))):
            raise SecurityError("format width too large")
    if re.search(r"\{[^{}]*:[^{}]*\{", text):
        raise SecurityError("nested format fields are not allowed")


def _max_value() -> int:
    budget = _budget.get()
    return MAX_VALUE_SIZE if budget is None else budget.max_value


def _check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple | bytes) and len(value) > _max_value():
        raise SecurityError("the chat template builds a value that is too large")
    return value


def _repeat_size(left: Any, right: Any) -> int:
    if isinstance(left, str | list | tuple | bytes) and isinstance(right, int):
        return len(left) * right
    if isinstance(right, str | list | tuple | bytes) and isinstance(left, int):
        return len(right) * left
    return 0


def _estimate_str_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Reject str method calls that would allocate far more than their input ("".ljust(10**10),
    s.replace("", big), sep.join(many)) before they run."""
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(method, "__name__", "")
    limit = _max_value()
    values = (*args, *kwargs.values())
    if name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
        widths = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        factor = owner.count("\t") + 1 if name == "expandtabs" else 1
        if any(w * factor > limit for w in widths):
            raise SecurityError(f"str.{name}() result too large")
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        hits = owner.count(old) if old else len(owner) + 1
        if len(owner) + hits * len(new) > limit:
            raise SecurityError("str.replace() result too large")
    elif (
        name == "join"
        and args
        and isinstance(args[0], list | tuple)
        and len(args[0]) * len(owner) > limit
    ):
        raise SecurityError("str.join() result too large")


class _GuardedCodeGenerator(CodeGenerator):
    """Routes the `~` operator through a size check: it compiles to a plain string join that
    the sandbox cannot intercept, and repeated doubling (`{% set ns.s = ns.s ~ ns.s %}`)
    would otherwise fill memory in a few dozen steps."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_concat(")
        super().visit_Concat(node, frame)
        self.write(")")


class _TemplateSandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment plus resource limits. The sandbox alone stops code
    execution (no dunder access, no mutation of builtins); these limits stop the cheap memory
    and CPU bombs a hostile template could use to hang the app ("x" * 10**10,
    "%999999999d", range loops). A template that loops without touching data can still burn
    CPU until MAX_RANGE-bounded loops end; callers render on a worker thread."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _GuardedCodeGenerator

    def checked_concat(self, value: Any) -> Any:
        _tick()
        return _check_size(value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "*" and _repeat_size(left, right) > _max_value():
            raise SecurityError("the chat template builds a value that is too large")
        if operator == "**" and isinstance(right, int) and isinstance(left, int | float):
            bits = abs(left).bit_length() if isinstance(left, int) else 64
            if abs(right) * max(bits, 1) > _MAX_INT_BITS:
                raise SecurityError("number too large")
        if (
            operator == "*"
            and isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > _MAX_INT_BITS
        ):
            raise SecurityError("number too large")
        if operator == "%" and isinstance(left, str):
            _check_percent_format(left)
        return _check_size(super().call_binop(context, operator, left, right))

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        # Jinja's default returns an Undefined that only fails when used, so
        # `{{ ''.__class__ }}` would quietly print nothing. A template probing private
        # attributes is hostile: stop it at once.
        raise SecurityError(
            f"access to attribute {attribute!r} of a {type(obj).__name__!r} object is unsafe"
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        _estimate_str_method(__obj, args, kwargs)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_brace_format(value.__self__)
        return wrapped


class _GenerationTag(jinja2.ext.Extension):
    """Accept HF's `{% generation %}...{% endgeneration %}` (used to mark assistant text for
    training masks) and render its body unchanged, so templates using it still compile."""

    tags = {"generation"}  # noqa: RUF012 - Jinja's Extension API declares it this way

    def parse(self, parser: Parser) -> list[nodes.Node]:
        next(parser.stream)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _raise_exception(message: str) -> None:
    raise jinja2.TemplateError(message)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # HF's tojson: plain json.dumps, not Jinja's HTML-escaping variant.
    if indent is not None and (not isinstance(indent, int) or indent > 64):
        raise SecurityError("indent too large")
    return _check_size(
        json.dumps(
            value,
            ensure_ascii=ensure_ascii,
            indent=indent,
            separators=separators,
            sort_keys=sort_keys,
        )
    )


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _safe_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(f"range too large (more than {MAX_RANGE} items)")
    return rng


# Filters that only format output for HTML or are nondeterministic (random breaks the prefix
# property); no chat template needs them and several amplify their input.
_REMOVED_FILTERS = ("wordwrap", "urlize", "xmlattr", "pprint", "filesizeformat", "random", "center")


def _estimate_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Reject filter calls whose output would be far larger than their input, before they
    allocate it."""
    limit = _max_value()
    value = args[0] if args else None
    if name == "indent" and isinstance(value, str):
        width = kwargs.get("width", args[1] if len(args) > 1 else 4)
        width_len = len(width) if isinstance(width, str) else width
        if isinstance(width_len, int) and (value.count("\n") + 1) * width_len > limit:
            raise SecurityError("indent() result too large")
    elif name == "replace" and isinstance(value, str):
        old = args[1] if len(args) > 1 else kwargs.get("old", "")
        new = args[2] if len(args) > 2 else kwargs.get("new", "")
        if isinstance(old, str) and isinstance(new, str):
            hits = value.count(old) if old else len(value) + 1
            if len(value) + hits * len(new) > limit:
                raise SecurityError("replace() result too large")
    elif name == "join" and isinstance(value, list | tuple):
        sep = args[1] if len(args) > 1 else kwargs.get("d", "")
        if isinstance(sep, str) and len(value) * len(sep) > limit:
            raise SecurityError("join() result too large")
    elif name in ("slice", "batch"):
        count = args[1] if len(args) > 1 else kwargs.get("slices", kwargs.get("linecount", 1))
        if isinstance(count, int) and count > MAX_RANGE:
            raise SecurityError(f"{name}() argument too large")


def _guard_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter with a size check of its result (and a pre-check where it amplifies)."""
    pass_arg = getattr(original, "jinja_pass_arg", None)
    # Filters marked pass_context/pass_environment get that object first; skip it.
    skip = 1 if pass_arg is not None else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        _estimate_filter(name, args[skip:], kwargs)
        return _check_size(original(*args, **kwargs))

    guarded.__name__ = name
    if pass_arg is not None:
        guarded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    return guarded


@lru_cache(maxsize=1)
def _environment() -> _TemplateSandbox:
    # Built on first use, not at import (nothing happens at import time).
    env = _TemplateSandbox(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[jinja2.ext.loopcontrols, _GenerationTag],
        undefined=jinja2.Undefined,
    )
    env.globals.pop("lipsum", None)  # lipsum(n=10**9) is a free memory bomb
    env.globals["range"] = _safe_range
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.filters["tojson"] = _tojson
    for name in _REMOVED_FILTERS:
        env.filters.pop(name, None)
    original_format = env.filters["format"]

    def _format(value: str, *args: Any, **kwargs: Any) -> str:
        _check_percent_format(str(value))
        return str(original_format(value, *args, **kwargs))

    env.filters["format"] = _format
    for name, original in list(env.filters.items()):
        env.filters[name] = _guard_filter(name, original)
    return env


@lru_cache(maxsize=32)
def _compile(source: str) -> jinja2.Template:
    if len(source) > MAX_TEMPLATE_SOURCE_CHARS:
        raise PromptFormatError("The chat template is too large.")
    try:
        return _environment().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptFormatError(f"The chat template has a syntax error: {exc}") from exc
    except Exception as exc:  # untrusted source: any failure means "cannot use it"
        raise PromptFormatError(f"The chat template could not be compiled: {exc}") from exc


# --- Public API ---------------------------------------------------------------------------


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


# Probe conversation a template must render faithfully. Distinct marker texts, with no
# leading or trailing spaces (several templates trim message content), so each can be found.
_PROBE_SYSTEM = "Hearth system 2c9d"
_PROBE_FIRST = "Hearth first 51e0"
_PROBE_REPLY = "Hearth reply 8b4f"
_PROBE_TEXT = "Hearth probe 7f3a"
_PROBES: tuple[tuple[dict[str, str], ...], ...] = (
    ({"role": "user", "content": _PROBE_TEXT},),
    (
        {"role": "system", "content": _PROBE_SYSTEM},
        {"role": "user", "content": _PROBE_FIRST},
        {"role": "assistant", "content": _PROBE_REPLY},
        {"role": "user", "content": _PROBE_TEXT},
    ),
)


def _keeps_probe_text(fmt: ChatFormat, tokens: ModelTokens) -> bool:
    """Whether `fmt` renders both probe conversations with the users' and the system's text
    in them. PromptFormatError when the template fails on them."""
    for probe in _PROBES:
        text = render_prompt(fmt, probe, bos_token=tokens.bos, eos_token=tokens.eos)
        wanted = [m["content"] for m in probe if m["role"] in ("system", "user")]
        if not all(content in text for content in wanted):
            return False
    return True


def _checked_template(fmt: ChatFormat, tokens: ModelTokens) -> ChatFormat | None:
    """`fmt` as it can be used: unchanged when it keeps every message's text; folding the
    system prompt into the first user turn when it drops or refuses a system message (as
    Mistral-7B-Instruct-v0.3's and Phi-3-mini's templates do); None when it loses text
    either way. Raises PromptFormatError with the template's own error in that last case."""
    error: PromptFormatError | None = None
    try:
        if _keeps_probe_text(fmt, tokens):
            return fmt
    except PromptFormatError as exc:
        error = exc
    folded = replace(fmt, fold_system=True, label=fmt.label + FOLDED_SYSTEM_NOTE)
    try:
        if _keeps_probe_text(folded, tokens):
            return folded
    except PromptFormatError:
        pass
    if error is not None:  # the template's own complaint says more than "text missing"
        raise error
    return None


def _turn_closer(fmt: ChatFormat, tokens: ModelTokens) -> str | None:
    """The text `fmt` writes right after an assistant reply, when it is one of the model's
    end-of-turn tokens or a known turn-closing marker: what the model emits to end a turn."""
    try:
        text = render_prompt(fmt, _PROBES[1], bos_token=tokens.bos, eos_token=tokens.eos)
    except PromptFormatError:
        return None
    at = text.find(_PROBE_REPLY)
    if at < 0:
        return None
    after = text[at + len(_PROBE_REPLY) :].lstrip()
    candidates = (*tokens.end_of_turn, *_KNOWN_TURN_ENDS)
    matches = [marker for marker in candidates if marker and after.startswith(marker)]
    return max(matches, key=len) if matches else None


def _template_stops(fmt: ChatFormat, tokens: ModelTokens, fallback: ChatFormat) -> tuple[str, ...]:
    """Stop strings for a model's or a custom template: the text that closes an assistant
    turn in this template, then the model's own end-of-turn tokens. Without either, the
    known turn-closing markers the template mentions, then the fallback format's stops."""
    closer = _turn_closer(fmt, tokens)
    if closer is not None:
        return tuple(dict.fromkeys((closer, *tokens.end_of_turn)))
    if tokens.end_of_turn:
        return tokens.end_of_turn
    found = tuple(marker for marker in _KNOWN_TURN_ENDS if marker in fmt.template)
    return found or fallback.stop


def with_model_stops(fmt: ChatFormat, tokens: ModelTokens) -> ChatFormat:
    """A built-in format's stops for a particular model: the format's own turn closer, then
    the model's end-of-turn tokens instead of the format's guess at them (ChatML's
    "<|endoftext|>" means nothing to a Mistral vocabulary)."""
    if not tokens.end_of_turn:
        return fmt
    return replace(fmt, stop=tuple(dict.fromkeys((fmt.stop[0], *tokens.end_of_turn))))


def select_format(
    architecture: str | None, chat_template: str | None, tokens: ModelTokens | None = None
) -> ChatFormat:
    """Pick the chat format for a model.

    The model's own template wins when present, compiles in the sandbox and renders the
    probe conversations (one with a system prompt, which the app may always send) keeping
    the users' and the system's text; a template that drops or refuses the system prompt is
    used with it folded into the first user turn. Otherwise the built-in format for the
    architecture is used. `tokens` (the loaded model's) make the probes render as they
    will for real and give the stop strings; without them the stops are a best guess.
    """
    tokens = tokens or ModelTokens()
    fallback = with_model_stops(format_for_architecture(architecture), tokens)
    if not chat_template or not chat_template.strip():
        return fallback
    candidate = ChatFormat(
        name=MODEL_TEMPLATE_NAME,
        label=MODEL_TEMPLATE_LABEL,
        template=chat_template,
        stop=fallback.stop,
        source="model",
    )
    try:
        checked = _checked_template(candidate, tokens)
    except PromptFormatError:
        return fallback
    if checked is None:
        return fallback
    return replace(checked, stop=_template_stops(checked, tokens, fallback))


def custom_format(
    template: str, architecture: str | None = None, tokens: ModelTokens | None = None
) -> ChatFormat:
    """A user's own Jinja template, checked in the sandbox with the same probe conversations
    as a model's template (and folding the system prompt the same way). Unlike a model's, it
    must work: PromptFormatError says why not."""
    if len(template) > MAX_TEMPLATE_SOURCE_CHARS:
        raise PromptFormatError("The custom chat template is too long.")
    if not template.strip():
        raise PromptFormatError("The custom chat template is empty.")
    tokens = tokens or ModelTokens()
    fallback = with_model_stops(format_for_architecture(architecture), tokens)
    fmt = ChatFormat(
        name=CUSTOM_TEMPLATE_NAME,
        label=CUSTOM_TEMPLATE_LABEL,
        template=template,
        stop=fallback.stop,
        source="model",
    )
    checked = _checked_template(fmt, tokens)
    if checked is None:
        raise PromptFormatError(
            "The custom chat template leaves out the messages' text (it never writes "
            "message['content'])."
        )
    return replace(checked, stop=_template_stops(checked, tokens, fallback))


def format_for_override(
    override: str,
    architecture: str | None,
    chat_template: str | None,
    tokens: ModelTokens | None = None,
) -> ChatFormat:
    """The format an EngineSettings.chat_format asks for: "auto" (select_format), a built-in
    name, or a custom template's text. Raises PromptFormatError for a broken custom one.
    `tokens`: the loaded model's special tokens (see select_format)."""
    choice = (override or AUTO_FORMAT).strip()
    if choice == AUTO_FORMAT:
        return select_format(architecture, chat_template, tokens)
    if choice in BUILTIN_FORMATS:
        return with_model_stops(BUILTIN_FORMATS[choice], tokens or ModelTokens())
    return custom_format(override, architecture, tokens)


def render_prompt(
    fmt: ChatFormat,
    messages: Sequence[Mapping[str, str]],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
) -> str:
    """Render `messages` (dicts with "role" and "content") with `fmt` in the sandbox.

    Raises PromptFormatError when the template fails, is blocked by the sandbox, or produces
    an implausibly large prompt. Pass the model's BOS/EOS strings consistently across turns
    (see the prefix property in the module docstring).
    """
    template = _compile(fmt.template)
    # Plain str dicts: the template must not see the caller's objects (the immutable sandbox
    # blocks mutating builtins, but arbitrary Mapping types could expose other methods).
    plain = [{str(k): str(v) for k, v in message.items()} for message in messages]
    if fmt.fold_system:
        plain = _fold_system(plain)
    content_chars = sum(len(m.get("content", "")) for m in plain)
    limit = 2 * content_chars + MAX_TEMPLATE_OVERHEAD_CHARS
    context = {
        "messages": plain,
        "bos_token": bos_token,
        "eos_token": eos_token,
        "add_generation_prompt": add_generation_prompt,
    }
    token = _budget.set(_Budget(operations=MAX_OPERATIONS, max_value=max(limit, MAX_VALUE_SIZE)))
    try:
        parts: list[str] = []
        size = 0
        # Stream the output so a runaway loop is stopped at the limit, not after it has
        # filled memory.
        for chunk in template.generate(context):
            size += len(chunk)
            if size > limit:
                raise PromptFormatError("The chat template produced an implausibly long prompt.")
            parts.append(chunk)
    except PromptFormatError:
        raise
    except SecurityError as exc:
        raise PromptFormatError(
            f"The chat template tried something unsafe and was blocked: {exc}"
        ) from exc
    except jinja2.TemplateError as exc:
        raise PromptFormatError(f"The chat template failed: {exc}") from exc
    except RecursionError as exc:
        raise PromptFormatError("The chat template recursed too deeply.") from exc
    except Exception as exc:  # untrusted code path: report, never crash the caller
        raise PromptFormatError(f"The chat template failed: {type(exc).__name__}: {exc}") from exc
    finally:
        _budget.reset(token)
    return "".join(parts)


def _fold_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Move a leading system message into the first user turn ("system\n\nuser"), the way
    the built-in Gemma and Mistral formats place it. Every turn then renders the system text
    at the same place, so the prefix property holds as far as the template allows."""
    if not messages or messages[0].get("role") != "system":
        return messages
    system, rest = messages[0].get("content", ""), messages[1:]
    for index, message in enumerate(rest):
        if message.get("role") == "user":
            content = f"{system}\n\n{message.get('content', '')}" if system else message["content"]
            return [*rest[:index], {**message, "content": content}, *rest[index + 1 :]]
    return [{"role": "user", "content": system}, *rest]


def should_add_bos(fmt: ChatFormat, rendered: str, bos_token: str, model_adds_bos: bool) -> bool:
    """Whether the tokenizer should prepend BOS to `rendered`.

    Only when the model asks for it (`model_adds_bos`: the GGUF's tokenizer.ggml.add_bos_token
    as llama.cpp reads it; Qwen2.5 and Qwen3 set it false, and neither llama.cpp nor Hugging
    Face then adds one), and not when the template already wrote the BOS string (it becomes
    the BOS token when special tokens are parsed), so BOS is never doubled. A template that
    writes BOS itself keeps it either way, as with Hugging Face. `fmt` is accepted so
    format-specific rules can live here later."""
    del fmt
    return model_adds_bos and not (bos_token and rendered.startswith(bos_token))
