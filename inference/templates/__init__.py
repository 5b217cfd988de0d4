"""Chat prompt templates: the built-in formats (`formats`), the Jinja sandbox every template
is rendered in (`sandbox`) and the choice of a model's format (`selection`).

Import from this package; its modules are how the code is arranged, not the interface.
Used by both the GUI and the engine process: imports neither Qt nor llama_cpp.
"""

from inference.templates.formats import (
    ARCHITECTURE_FORMATS,
    AUTO_FORMAT,
    BUILTIN_FORMATS,
    ChatFormat,
    ModelTokens,
    PromptFormatError,
    builtin_format,
    format_for_architecture,
)
from inference.templates.sandbox import render_prompt, should_add_bos
from inference.templates.selection import (
    custom_format,
    format_for_override,
    select_format,
    with_model_stops,
)

__all__ = [
    "ARCHITECTURE_FORMATS",
    "AUTO_FORMAT",
    "BUILTIN_FORMATS",
    "ChatFormat",
    "ModelTokens",
    "PromptFormatError",
    "builtin_format",
    "custom_format",
    "format_for_architecture",
    "format_for_override",
    "render_prompt",
    "select_format",
    "should_add_bos",
    "with_model_stops",
]
