"""Run a block under a given umask (the process-wide file-creation mask), then restore it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    """The permission bits of `path`, e.g. 0o644."""
    return path.stat().st_mode & 0o777
