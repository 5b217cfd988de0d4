"""How every `hearth` subcommand reports a failure: one line on stderr, a non-zero code."""

from __future__ import annotations

import sys


def fail(message: str, code: int = 1) -> int:
    print(f"hearth: error: {message}", file=sys.stderr)
    return code
