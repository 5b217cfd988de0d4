"""Case folding that SQL can call: SQLite's own LIKE and lower() fold ASCII letters only, so a
title filter typed as "ÉTÉ" or "ДОМ" would miss "été" or "дом". storage.database registers
it on every connection."""

from __future__ import annotations

CASEFOLD_FUNCTION = "hearth_casefold"


def casefold(text: object) -> str | None:
    """str.casefold for text; None for anything else (NULL, a blob in a damaged row)."""
    return text.casefold() if isinstance(text, str) else None
