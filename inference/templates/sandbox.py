"""The Jinja sandbox every chat template is rendered in, built-in or not.

A GGUF may carry its own Jinja chat template (`tokenizer.chat_template`). That template is
untrusted input: rendering it without a sandbox is CVE-2024-34359 (code execution from a model
file). Every template here, built-in or not, is rendered only through a hardened
`ImmutableSandboxedEnvironment`, with the globals Hugging Face's chat-template runtime provides
(`raise_exception`, `strftime_now`, a JSON `tojson`) and with limits on output size, string
repetition, format widths and the number of operations.

Used by both the GUI and the engine process: imports neither Qt nor llama_cpp. Rendering is
thread-safe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from inference.templates.formats import ChatFormat, PromptFormatError
from inference.templates.sandbox_limits import (
    MAX_INT_BITS,
    MAX_OPERATIONS,
    MAX_RANGE,
    MAX_TEMPLATE_OVERHEAD_CHARS,
    MAX_VALUE_SIZE,
    Budget,
    check_brace_format,
    check_percent_format,
    check_size,
    estimate_str_method,
    guard_filter,
    render_budget,
    repeat_size,
    tick,
    value_limit,
)

MAX_TEMPLATE_SOURCE_CHARS = 256_000


# --- Sandbox ------------------------------------------------------------------------------


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
        tick()
        return check_size(value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        tick()
        if operator == "*" and repeat_size(left, right) > value_limit():
            raise SecurityError("the chat template builds a value that is too large")
        if operator == "**" and isinstance(right, int) and isinstance(left, int | float):
            bits = abs(left).bit_length() if isinstance(left, int) else 64
            if abs(right) * max(bits, 1) > MAX_INT_BITS:
                raise SecurityError("number too large")
        if (
            operator == "*"
            and isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > MAX_INT_BITS
        ):
            raise SecurityError("number too large")
        if operator == "%" and isinstance(left, str):
            check_percent_format(left)
        return check_size(super().call_binop(context, operator, left, right))

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        # Jinja's default returns an Undefined that only fails when used, so
        # `{{ ''.__class__ }}` would quietly print nothing. A template probing private
        # attributes is hostile: stop it at once.
        raise SecurityError(
            f"access to attribute {attribute!r} of a {type(obj).__name__!r} object is unsafe"
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        tick()
        estimate_str_method(__obj, args, kwargs)
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            check_brace_format(value.__self__)
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
    return check_size(
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
        check_percent_format(str(value))
        return str(original_format(value, *args, **kwargs))

    env.filters["format"] = _format
    for name, original in list(env.filters.items()):
        env.filters[name] = guard_filter(name, original)
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
    (see the prefix property in formats.py).
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
    token = render_budget.set(
        Budget(operations=MAX_OPERATIONS, max_value=max(limit, MAX_VALUE_SIZE))
    )
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
        render_budget.reset(token)
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
