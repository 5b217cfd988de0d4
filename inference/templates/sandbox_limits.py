"""The limits of one template render and the checks that keep a render inside them.

A hostile chat template can loop, repeat strings, pad formats or call amplifying filters;
every such step is charged against the running render's budget (a context variable, so
renders on several threads do not share one) or rejected before it allocates. The sandbox
(inference.templates.sandbox) calls these from its operator, attribute, call and filter hooks.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SecurityError

# Rendered prompts beyond this (plus twice the message text) mean a runaway template.
MAX_TEMPLATE_OVERHEAD_CHARS = 1_000_000
# Any single string/list a template builds (raised to the prompt size limit of a render).
MAX_VALUE_SIZE = 1_000_000
# Attribute/item accesses, calls and operator uses per render.
MAX_OPERATIONS = 1_000_000
MAX_RANGE = 10_000
MAX_FORMAT_WIDTH = 999
# The most bits a number that * or ** builds may have.
MAX_INT_BITS = 100_000


@dataclass
class Budget:
    """Limits of one render (a template may only build values up to the size of the prompt
    it is allowed to produce)."""

    operations: int
    max_value: int


render_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "hearth_template_budget", default=None
)

_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_DIGITS = re.compile(r"\d+")


def tick() -> None:
    """Charge one operation against the running render's budget (catches runaway loops that
    touch data; see MAX_OPERATIONS)."""
    budget = render_budget.get()
    if budget is not None:
        budget.operations -= 1
        if budget.operations < 0:
            raise SecurityError("the chat template does too much work")


def check_percent_format(text: str) -> None:
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*" or (part and int(part) > MAX_FORMAT_WIDTH):
                raise SecurityError("format width too large")


def check_brace_format(text: str) -> None:
    for match in _BRACE_SPEC.finditer(text):
        if any(int(d) > MAX_FORMAT_WIDTH for d in _DIGITS.findall(match.group(1))):
            raise SecurityError("format width too large")
    if re.search(r"\{[^{}]*:[^{}]*\{", text):
        raise SecurityError("nested format fields are not allowed")


def value_limit() -> int:
    budget = render_budget.get()
    return MAX_VALUE_SIZE if budget is None else budget.max_value


def check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple | bytes) and len(value) > value_limit():
        raise SecurityError("the chat template builds a value that is too large")
    return value


def repeat_size(left: Any, right: Any) -> int:
    if isinstance(left, str | list | tuple | bytes) and isinstance(right, int):
        return len(left) * right
    if isinstance(right, str | list | tuple | bytes) and isinstance(left, int):
        return len(right) * left
    return 0


def estimate_str_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Reject str method calls that would allocate far more than their input ("".ljust(10**10),
    s.replace("", big), sep.join(many)) before they run."""
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(method, "__name__", "")
    limit = value_limit()
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


def estimate_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Reject filter calls whose output would be far larger than their input, before they
    allocate it."""
    limit = value_limit()
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


def guard_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter with a size check of its result (and a pre-check where it amplifies)."""
    pass_arg = getattr(original, "jinja_pass_arg", None)
    # Filters marked pass_context/pass_environment get that object first; skip it.
    skip = 1 if pass_arg is not None else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        tick()
        estimate_filter(name, args[skip:], kwargs)
        return check_size(original(*args, **kwargs))

    guarded.__name__ = name
    if pass_arg is not None:
        guarded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    return guarded
