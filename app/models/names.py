"""The one name a model goes by everywhere: the chat page's picker, the Models page, the
status bar, the loading text and `hearth models list` all call `display_name`, so a model
never shows as a file name in one place and as a title in another. Pure; any thread.
"""

from __future__ import annotations

import re
from pathlib import PurePath

SEP = " · "
_GGUF_SUFFIX = re.compile(r"\.gguf$", re.IGNORECASE)


def display_name(name: str | None, quantization: str | None, filename: str = "") -> str:
    """`name` (the header's general.name, else the file's stem) and the quantization:
    "Gemma 3 270m · Q4_K_M". Quantizations of one model share its general.name, so the
    quantization is what tells them apart; it is left out when the name already says it
    (a name that fell back to a file stem such as "model.Q4_K_M")."""
    base = (name or "").strip() or _GGUF_SUFFIX.sub("", PurePath(filename).name) or "Model"
    if not quantization or quantization.casefold() in base.casefold():
        return base
    return f"{base}{SEP}{quantization}"
