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

import contextvars
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
